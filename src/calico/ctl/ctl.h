// calicoctl's command layer (calicoctl/calicoctl/commands): argument parsing, dispatch, the
// resource commands create|apply|replace|delete|get|patch|label|validate|version, their messages
// and output formats. Runs in-process: streams and the datastore are injected, so tests drive it
// exactly as the binary does.
//
//   ctl::Context ctx{.in = std::cin, .out = std::cout, .err = std::cerr,
//                    .open_client = [&](const ctl::ClientOptions& o) { ... },
//                    .build = {.version = "v3.31.0", .git_commit = "abc"}};
//   ctl::CommandRegistry registry = ctl::DefaultRegistry();
//   registry.Register("ipam", "IP address management", ipam::RunIpamCommand);  // other libraries
//   return ctl::Run(registry, args, ctx);   // args without argv[0]; returns the exit code
//
// Extending: another library provides a Handler for a command path ("ipam", "node",
// "datastore migrate", legacy "pool"/"profile"/"endpoint") and main.cc registers it. Dispatch
// picks the longest registered path matching the leading words; the handler gets the remaining
// words and the Context, prints to ctx.out / ctx.err and returns the exit code. FlagSet (args.h)
// parses flags the way the built-in commands do; ctx.open_client opens the datastore.
//
// Thread-safety: a Context is used by one command at a time.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/datastore/client.h"
#include "calico/datastore/config.h"

namespace calico::ctl {

inline constexpr std::string_view kDefaultConfigPath = "/etc/calico/calicoctl.cfg";

struct ClientOptions {
  std::string config_path = std::string(kDefaultConfigPath);  // -c/--config
  bool config_path_set = false;  // True when -c was given (a missing file is then an error).
};

struct BuildInfo {
  std::string version = "v3.31.0";
  std::string git_commit = "unknown";
};

struct Context {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Opens (or returns the already open) datastore client. The Client must outlive the command.
  // Errors are printed as "Failed to create Calico API client: <message>".
  std::function<Result<datastore::Client*>(const ClientOptions&)> open_client;
  BuildInfo build;
  // Sleep between update retries on conflict (Calico: 1 s); tests set 0.
  int retry_sleep_ms = 1000;
  // GET `target` from calico-flows at `server` (FelixConfiguration flowLogsGoldmaneServer:
  // "host:port" or "http://host:port"): the body of a 200 answer, else an error naming the server
  // and the reason. Unset: no flows server can be asked (the HITS column of `get -o wide` is "-").
  std::function<Result<std::string>(std::string_view server, std::string_view target)> flows_get{};
};

// The open_client of the binary: loads the configuration (ClientOptions), opens the backend with
// `open` the first time and returns the same Client after. A failure is remembered too: commands
// ask more than once (the version check, then the command itself), and an unreachable etcd must
// cost one dial timeout, not one per ask.
using BackendOpener =
    std::function<Result<std::unique_ptr<datastore::Backend>>(const datastore::ClientConfig&)>;
std::function<Result<datastore::Client*>(const ClientOptions&)> MakeClientOpener(
    BackendOpener open);

class FlagSet;

// For subcommands: opens the datastore named by the --config flag of `fs` (see ClientOptions).
// On failure prints "Failed to create Calico API client: <message>" and returns nullptr.
datastore::Client* OpenClientFromFlags(const FlagSet& fs, Context& ctx);

// A subcommand: `args` are the words after the command path. Returns the exit code.
using Handler = std::function<int(std::span<const std::string> args, Context& ctx)>;

class CommandRegistry {
 public:
  // `path` is one or more space-separated words ("ipam", "datastore migrate"). A later
  // registration of the same path replaces the earlier one.
  void Register(std::string path, std::string summary, Handler handler);
  // The handler for the longest registered path that prefixes `args`; `consumed` = its words.
  const Handler* Find(std::span<const std::string> args, size_t& consumed) const;
  // "  <path>   <summary>" lines in path order.
  std::string Summary() const;

 private:
  struct Entry {
    std::string summary;
    Handler handler;
  };
  std::map<std::string, Entry> commands_;
};

// The registry holding the built-in resource commands and version.
CommandRegistry DefaultRegistry();

// Runs one calicoctl invocation (args exclude argv[0]). Global flags (-l/--log-level, --context,
// --allow-version-mismatch, -h/--help) may appear anywhere. Errors go to ctx.err; returns 0 or 1.
int Run(const CommandRegistry& registry, std::span<const std::string> args, Context& ctx);

// The built-in commands, callable directly.
int RunCreate(std::span<const std::string> args, Context& ctx);
int RunApply(std::span<const std::string> args, Context& ctx);
int RunReplace(std::span<const std::string> args, Context& ctx);
int RunDelete(std::span<const std::string> args, Context& ctx);
int RunGet(std::span<const std::string> args, Context& ctx);
int RunPatch(std::span<const std::string> args, Context& ctx);
int RunLabel(std::span<const std::string> args, Context& ctx);
int RunValidate(std::span<const std::string> args, Context& ctx);
int RunVersion(std::span<const std::string> args, Context& ctx);

// Calico's MassageError: strips "error unmarshaling JSON: while decoding JSON: json: " and
// rewrites `unknown field "X"` as "field in document is not recognized or is in the wrong
// location: X".
std::string MassageError(std::string_view message);

}  // namespace calico::ctl
