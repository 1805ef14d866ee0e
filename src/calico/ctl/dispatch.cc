// Reproduces calicoctl's top-level command dispatch (calicoctl/calicoctl/calicoctl.go, cobra):
// usage text, unknown-command error, global flags, and the registry other libraries extend.
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"

namespace calico::ctl {
namespace {

constexpr std::string_view kUsageHead =
    R"(The calicoctl command line tool is used to manage Calico network and security
policy, to view and manage endpoint configuration, and to manage a Calico
node instance.

Usage:
  calicoctl [command]

Available Commands:
)";

constexpr std::string_view kUsageTail = R"(
Flags:
      --allow-version-mismatch   Allow client and cluster versions mismatch.
      --context string           The name of the kubeconfig context to use.
  -h, --help                     help for calicoctl
  -l, --log-level string         Set the log level (one of panic, fatal, error, warn, info, debug) (default "panic")

Use "calicoctl [command] --help" for more information about a command.
)";

}  // namespace

void CommandRegistry::Register(std::string path, std::string summary, Handler handler) {
  commands_[std::move(path)] = Entry{std::move(summary), std::move(handler)};
}

const Handler* CommandRegistry::Find(std::span<const std::string> args, size_t& consumed) const {
  const Handler* best = nullptr;
  size_t best_words = 0;
  for (const auto& [path, entry] : commands_) {
    const auto words = StrSplit(path, ' ', /*skip_empty=*/true);
    if (words.size() > args.size() || words.size() <= best_words) continue;
    bool match = true;
    for (size_t i = 0; i < words.size() && match; ++i)
      match = words[i] == args[i];
    if (match) {
      best = &entry.handler;
      best_words = words.size();
    }
  }
  consumed = best_words;
  return best;
}

std::string CommandRegistry::Summary() const {
  size_t width = 0;
  for (const auto& [path, entry] : commands_)
    width = std::max(width, path.size());
  std::string out;
  for (const auto& [path, entry] : commands_) {
    out += fmt::format("  {:<{}}   {}\n", path, width, entry.summary);
  }
  return out;
}

CommandRegistry DefaultRegistry() {
  CommandRegistry r;
  r.Register("create", "Create a resource by file, directory or stdin", RunCreate);
  r.Register("apply", "Apply a resource by file, directory or stdin", RunApply);
  r.Register("replace", "Replace a resource by file, directory or stdin", RunReplace);
  r.Register("delete", "Delete a resource by file, directory, stdin, or type and name", RunDelete);
  r.Register("get", "Get a resource by file, directory, stdin, or type and name", RunGet);
  r.Register("patch", "Patch a pre-existing resource in place", RunPatch);
  r.Register("label", "Add or update labels of resources", RunLabel);
  r.Register("validate", "Validate a resource by file, directory or stdin without applying it",
             RunValidate);
  r.Register("version", "Display the version of this binary", RunVersion);
  return r;
}

int Run(const CommandRegistry& registry, std::span<const std::string> args, Context& ctx) {
  // Global flags before the command word are moved behind it: cobra's Find (command.go
  // stripFlags) skips them, taking "--name VALUE" / "-x VALUE" as one flag and its value unless
  // the root knows the flag as a boolean, and the command then parses every flag. So any flag of
  // the command (-c/--config too) may come first.
  std::vector<std::string> globals;
  size_t i = 0;
  while (i < args.size() && StartsWith(args[i], "-")) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") break;
    if (a == "--") break;
    globals.push_back(a);
    const bool root_bool = a == "--allow-version-mismatch";
    const bool takes_value =
        !root_bool && a.find('=') == std::string::npos && (StartsWith(a, "--") || a.size() == 2);
    if (takes_value && i + 1 < args.size()) globals.push_back(args[++i]);
    ++i;
  }
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (rest.empty() || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help") {
    // No command: the root command parses the flags itself (its own are the global flags), so
    // an unknown one fails as pflag says it, exit 1 (calicoctl.go main prints the error).
    if (rest.empty() || rest[0] != "help") {
      FlagSet root;
      root.AddBool("help", 'h', "help for calicoctl");
      Status st = root.Parse(args);
      if (!st) {
        ctx.err << st.error().message() << "\n";
        return 1;
      }
    }
    ctx.out << kUsageHead << registry.Summary() << kUsageTail;
    return 0;
  }
  size_t consumed = 0;
  const Handler* handler = registry.Find(rest, consumed);
  if (handler == nullptr) {
    ctx.err << fmt::format(
        "unknown command \"{}\" for \"calicoctl\"\nRun 'calicoctl --help' for "
        "usage.\n",
        rest[0]);
    return 1;
  }
  std::vector<std::string> sub(rest.begin() + static_cast<std::ptrdiff_t>(consumed), rest.end());
  sub.insert(sub.end(), globals.begin(), globals.end());
  return (*handler)(sub, ctx);
}

std::function<Result<datastore::Client*>(const ClientOptions&)> MakeClientOpener(
    BackendOpener open) {
  struct State {
    BackendOpener open;
    std::unique_ptr<datastore::Backend> backend;
    std::unique_ptr<datastore::Client> client;
    std::optional<Error> error;
  };
  auto state = std::make_shared<State>();
  state->open = std::move(open);
  return [state](const ClientOptions& opts) -> Result<datastore::Client*> {
    if (state->client) return state->client.get();
    if (state->error) return Unexpected(*state->error);
    auto config = datastore::LoadClientConfig(opts.config_path, opts.config_path_set);
    if (!config) {
      state->error = config.error();
      return Unexpected(config.error());
    }
    auto backend = state->open(*config);
    if (!backend) {
      state->error = backend.error();
      return Unexpected(backend.error());
    }
    state->backend = std::move(*backend);
    state->client = std::make_unique<datastore::Client>(*state->backend);
    return state->client.get();
  };
}

datastore::Client* OpenClientFromFlags(const FlagSet& fs, Context& ctx) {
  ClientOptions opts{.config_path = fs.GetString("config"),
                     .config_path_set = fs.Changed("config")};
  auto client = ctx.open_client(opts);
  if (!client) {
    ctx.err << "Failed to create Calico API client: " << client.error().message() << "\n";
    return nullptr;
  }
  return *client;
}

}  // namespace calico::ctl
