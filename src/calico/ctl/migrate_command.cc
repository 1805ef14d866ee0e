#include "calico/ctl/migrate_command.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include "calico/ctl/args.h"
#include "calico/datastore/migrate.h"

namespace calico::ctl {

int RunDatastoreMigrate(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n"
      "  calicoctl datastore migrate export [--config=<CONFIG>]\n"
      "  calicoctl datastore migrate import --filename=<FILENAME> [--config=<CONFIG>]\n";
  FlagSet fs;
  fs.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  fs.AddString("filename", 'f', "", "File (or - for stdin) produced by export.");
  fs.AddString("log-level", 'l', "panic", "Log level.");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  if (fs.positionals().size() != 1 ||
      (fs.positionals()[0] != "export" && fs.positionals()[0] != "import")) {
    ctx.err << "Invalid datastore migrate command\n" << kUsage;
    return 1;
  }
  datastore::Client* client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  datastore::Backend& backend = client->backend();
  if (fs.positionals()[0] == "export") {
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
