// See cluster_command.h.
#include "calico/ctl/cluster_command.h"

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <fmt/format.h>

#include "calico/base/redact.h"
#include "calico/base/subprocess.h"
#include "calico/ctl/args.h"
#include "calico/ctl/ipam_command.h"
#include "calico/datastore/keys.h"
#include "calico/model/resource.h"

namespace calico::ctl {
namespace {

namespace fs = std::filesystem;

// Runs a calicoctl command in-process with its output (stdout, then stderr) into `file`.
void Capture(const fs::path& file, const std::function<int(Context&)>& run, Context& ctx) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Context sub{.in = in,
              .out = out,
              .err = err,
              .open_client = ctx.open_client,
              .build = ctx.build,
              .retry_sleep_ms = ctx.retry_sleep_ms};
  const int rc = run(sub);
  std::ofstream f(file, std::ios::binary);
  f << out.str() << err.str();
  if (rc != 0) f << fmt::format("(exit code {})\n", rc);
}

std::vector<std::string> Words(std::initializer_list<std::string> words) {
  return {words};
}

}  // namespace

int RunCluster(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n  calicoctl cluster diags [--config=<CONFIG>] [--skip-temp-dir-cleanup]\n";
  FlagSet fs_flags;
  fs_flags.AddString(
      "config", 'c', std::string(kDefaultConfigPath),
      "Path to the file containing connection configuration in YAML or JSON format.");
  fs_flags.AddBool("skip-temp-dir-cleanup", 0, "Don't clean up the temporary directory.");
  fs_flags.AddString("log-level", 'l', "panic", "Log level.");
  fs_flags.AddBool("help", 'h', "help for diags");
  if (Status st = fs_flags.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  if (fs_flags.GetBool("help")) {
    ctx.out << kUsage << "\nFlags:\n" << fs_flags.Usage();
    return 0;
  }
  if (fs_flags.positionals().size() != 1 || fs_flags.positionals()[0] != "diags") {
    ctx.err << "Invalid option.\n" << kUsage;
    return 1;
  }
  datastore::Client* client = OpenClientFromFlags(fs_flags, ctx);
  if (client == nullptr) return 1;
  const std::string config = fs_flags.GetString("config");
  const bool config_set = fs_flags.Changed("config");
  auto with_config = [&](std::vector<std::string> words) {
    if (config_set) words.push_back("--config=" + config);
    return words;
  };

  ctx.out << "==== Begin collecting diagnostics. ====\n";
  char tmpl[] = "/tmp/calico-cluster-diags-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    ctx.err << "Error: cannot create a temporary directory\n";
    return 1;
  }
  const fs::path temp_dir = tmpl;
  ctx.out << "Created temporary directory: " << temp_dir.string() << "\n";
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", std::gmtime(&now));
  const std::string directory_name = std::string("calico-diagnostics-") + stamp;
  const std::string archive_name = directory_name + ".tar.gz";
  const fs::path dir = temp_dir / directory_name;
  std::error_code ec;
  for (const char* sub : {"resources", "ipam", "nodes"})
    fs::create_directories(dir / sub, ec);

  ctx.out << "Collecting Calico resources...\n";
  for (const model::KindInfo& kind : model::AllKinds()) {
    for (const char* format : {"yaml", "wide"}) {
      std::vector<std::string> words = {kind.plural, "-o", format};
      if (kind.namespaced) words.push_back("--all-namespaces");
      words = with_config(std::move(words));
      Capture(
          dir / "resources" / (kind.plural + (format == std::string("yaml") ? ".yaml" : ".txt")),
          [&](Context& c) { return RunGet(words, c); }, ctx);
    }
  }

  ctx.out << "Collecting IPAM state...\n";
  const std::pair<const char*, std::vector<std::string>> ipam_views[] = {
      {"show.txt", Words({"show"})},
      {"show-blocks.txt", Words({"show", "--show-blocks"})},
      {"show-borrowed.txt", Words({"show", "--show-borrowed"})},
      {"show-configuration.txt", Words({"show", "--show-configuration"})},
      {"check.txt",
       Words({"check", "--show-problem-ips", "-o", (dir / "ipam" / "check-report.json").string()})},
  };
  for (const auto& [file, words] : ipam_views) {
    auto full = with_config(words);
    Capture(
        dir / "ipam" / file, [&](Context& c) { return RunIpam(full, c); }, ctx);
  }
  {
    std::ofstream keys(dir / "ipam" / "keys.json", std::ios::binary);
    auto listed = client->backend().List(std::string(datastore::kIpamPrefix));
    if (!listed) {
      keys << "error listing " << datastore::kIpamPrefix << ": " << listed.error().message()
           << "\n";
    } else {
      for (const auto& kv : listed->kvs) {
        keys << model::Json{{"key", kv.key}, {"value", kv.value}, {"revision", kv.mod_revision}}
                    .dump()
             << "\n";
      }
    }
  }

  ctx.out << "Collecting node status reports...\n";
  {
    auto listed = client->backend().List(std::string(datastore::kFelixStatusPrefix));
    if (listed) {
      for (const auto& kv : listed->kvs) {
        // <prefix><node>/status | <prefix><node>/last_reported_status
        auto report = datastore::FelixReportKey::Parse(kv.key);
        if (!report || report->node == "." || report->node == "..") continue;
        const std::string& node = report->node;
        const std::string& leaf = report->leaf;
        fs::create_directories(dir / "nodes" / node, ec);
        std::ofstream(dir / "nodes" / node / (leaf + ".json"), std::ios::binary)
            << kv.value << "\n";
      }
    } else {
      std::ofstream(dir / "nodes" / "error.txt") << listed.error().message() << "\n";
    }
  }
  Capture(
      dir / "cluster-information.txt",
      [&](Context& c) {
        int rc = RunVersion(with_config({}), c);
        std::vector<std::string> words = with_config({"clusterinformation", "-o", "yaml"});
        return RunGet(words, c) | rc;
      },
      ctx);

  // Bundles are attached to bug reports: no secret leaves in them.
  base::RedactFiles(dir);

  ctx.out << "\n==== Producing a diagnostics bundle. ====\n";
  fs::remove(archive_name, ec);
  // Owner-only whatever the caller's umask (it holds addresses, rules and configuration).
  auto tar = RunSubprocess(
      {.argv = {"tar", "-czf", "./" + archive_name, "-C", temp_dir.string(), directory_name},
       .umask = 077},
      {.merge_stderr = true});
  if (!fs_flags.GetBool("skip-temp-dir-cleanup")) fs::remove_all(temp_dir, ec);
  if (!tar || tar->exit_code != 0) {
    ctx.err << "Could not create new archive " << archive_name << "\n";
    return 1;
  }
  ctx.out << "Diagnostic bundle created at ./" << archive_name << "\n";
  return 0;
}

}  // namespace calico::ctl
