// calicoctl version (calicoctl/calicoctl/commands/version.go): client version and commit, then
// the cluster's calicoVersion and clusterType from ClusterInformation "default".
#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/resource_command.h"

namespace calico::ctl {

int RunVersion(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddConfigFlag(fs);
  fs.AddBool("client", 0, "Display only the client version.");
  fs.AddString("poll", 0, "",
               "Poll for changes to the cluster information at a frequency "
               "specified using POLL duration (e.g. 1s, 10m, 2h etc.). A value of "
               "0 (the default) disables polling.");
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, "Usage:\n  calicoctl version [flags]"); rc >= 0)
    return rc;
  if (!fs.GetString("poll").empty() && fs.GetString("poll") != "0") {
    return Fail(ctx, fmt::format("invalid poll duration specified: {}", fs.GetString("poll")));
  }
  log::SetAllLevels(fs.GetString("log-level"));
  ctx.out << "Client Version:    " << ctx.build.version << "\n";
  ctx.out << "Git commit:        " << ctx.build.git_commit << "\n";
  if (fs.GetBool("client")) return 0;
  ClientOptions opts{.config_path = fs.GetString("config"),
                     .config_path_set = fs.Changed("config")};
  if (!ctx.open_client) {
    ctx.out << "Unable to detect installed Calico version\n";
    return 0;
  }
  auto client = ctx.open_client(opts);
  if (!client) {
    ctx.out << "Unable to detect installed Calico version\n";
    return 0;
  }
  auto ci = (*client)->Get("ClusterInformation", "", "default");
  if (!ci) {
    return Fail(
        ctx, fmt::format("unable to retrieve Cluster Version or Type: {}", ci.error().message()));
  }
  std::string v = ci->spec().value("calicoVersion", std::string());
  std::string t = ci->spec().value("clusterType", std::string());
  ctx.out << "Cluster Version:   " << (v.empty() ? "unknown" : v) << "\n";
  ctx.out << "Cluster Type:      " << (t.empty() ? "unknown" : t) << "\n";
  return 0;
}

}  // namespace calico::ctl
