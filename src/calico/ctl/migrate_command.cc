#include "calico/ctl/migrate_command.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include "calico/ctl/args.h"
#include "calico/datastore/migrate.h"
#include "calico/model/resource.h"

namespace calico::ctl {
namespace {

using model::Json;

// datastore/migrate/lock.go Lock and unlock.go Unlock: ClusterInformation's datastoreReady set to
// false (lock; the datastore is initialised first) or true (unlock). While it is false, the CNI
// plugin refuses to network new workloads and `ipam split` and `migrate export` may run.
int SetLocked(datastore::Client& client, bool lock, Context& ctx) {
  const char* what = lock ? "locking" : "unlocking";
  if (lock) {
    if (Status st = client.EnsureInitialized(); !st) {
      ctx.err << "unable to initialize cluster information for the datastore migration: "
              << st.error().message() << "\n";
      return 1;
    }
  }
  for (int attempt = 0;; ++attempt) {
    auto info = client.Get("ClusterInformation", "", "default");
    if (!info) {
      ctx.err << "error retrieving ClusterInformation for " << what << ": "
              << info.error().message() << "\n";
      return 1;
    }
    if (!info->spec().is_object()) info->spec() = Json::object();
    info->spec()["datastoreReady"] = !lock;
    auto updated = client.Update(*info);
    if (!updated && updated.error().code() == ErrorCode::kConflict && attempt < 5) continue;
    if (!updated) {
      ctx.err << "error updating ClusterInformation for " << what << ": "
              << updated.error().message() << "\n";
      return 1;
    }
    break;
  }
  ctx.out << (lock ? "Datastore locked.\n" : "Datastore unlocked.\n");
  return 0;
}

}  // namespace

int RunDatastoreMigrate(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n"
      "  calicoctl datastore migrate lock [--config=<CONFIG>]\n"
      "  calicoctl datastore migrate export [--config=<CONFIG>]\n"
      "  calicoctl datastore migrate import --filename=<FILENAME> [--config=<CONFIG>]\n"
      "  calicoctl datastore migrate unlock [--config=<CONFIG>]\n";
  FlagSet fs;
  fs.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  fs.AddString("filename", 'f', "", "File (or - for stdin) produced by export.");
  fs.AddString("log-level", 'l', "panic", "Log level.");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  const std::string cmd = fs.positionals().size() == 1 ? fs.positionals()[0] : "";
  if (cmd != "export" && cmd != "import" && cmd != "lock" && cmd != "unlock") {
    ctx.err << "Invalid datastore migrate command\n" << kUsage;
    return 1;
  }
  datastore::Client* client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  datastore::Backend& backend = client->backend();
  if (cmd == "lock" || cmd == "unlock") return SetLocked(*client, cmd == "lock", ctx);
  if (cmd == "export") {
    // export.go Export: the source must be locked (common.CheckLocked), so nothing changes while
    // it is read.
    auto info = client->Get("ClusterInformation", "", "default");
    if (!info) {
      ctx.err << "error while checking if datastore was locked: error retrieving "
                 "ClusterInformation: "
              << info.error().message() << "\n";
      return 1;
    }
    const Json ready =
        info->spec().is_object() ? info->spec().value("datastoreReady", Json()) : Json();
    if (!ready.is_boolean() || ready.get<bool>()) {
      ctx.err << "datastore is not locked. Run the `calicoctl datastore migrate lock` command in "
                 "order to begin migration\n";
      return 1;
    }
    auto text = datastore::ExportDatastore(backend);
    if (!text) {
      ctx.err << "Failed to export the datastore: " << text.error().message() << "\n";
      return 1;
    }
    ctx.out << *text;
    return 0;
  }
  std::string file = fs.GetString("filename");
  if (file.empty()) {
    ctx.err << "import needs --filename (or -f -)\n" << kUsage;
    return 1;
  }
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(ctx.in), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file);
    if (!in) {
      ctx.err << "Failed to read " << file << "\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto summary = datastore::ImportDatastore(text, backend);
  if (!summary) {
    ctx.err << "Failed to import: " << summary.error().message() << "\n";
    return 1;
  }
  ctx.out << "Successfully imported " << summary->resources << " resource(s) and "
          << summary->ipam_keys << " IPAM key(s)\n";
  return 0;
}

}  // namespace calico::ctl
