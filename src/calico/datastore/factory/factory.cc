#include "calico/datastore/factory/factory.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "calico/base/strings.h"
#include "calico/datastore/etcd/etcd_module.h"
#include "calico/datastore/etcdhttp/etcd_http_backend.h"
#include "calico/datastore/local/sqlite_backend.h"

namespace calico::datastore {
namespace {

constexpr const char* kPackagedLibDir = "/usr/lib/calico";  // tools/mkdeb.sh

// Where libcalico-etcd.so may be: $CALICO_LIB_DIR, beside the program (build/bin), the build's bin
// directory from build/tests, <prefix>/lib/calico next to an installed program, the install dir,
// and the Debian package's /usr/lib/calico (whatever prefix the binaries were built with: the CNI
// plugins run from /usr/lib/cni, calico-lab from /usr/lib/calico/lab).
std::vector<std::string> ModuleDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("CALICO_LIB_DIR"); env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  }
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = exe.parent_path();
    dirs.push_back(dir.string());
    dirs.push_back((dir.parent_path() / "bin").string());
    dirs.push_back((dir.parent_path() / "lib" / "calico").string());
  }
  dirs.emplace_back(CALICO_INSTALL_LIBDIR);
  if (dirs.back() != kPackagedLibDir) dirs.emplace_back(kPackagedLibDir);
  return dirs;
}

Result<CalicoEtcdOpenFn> LoadEtcdModule() {
  static std::mutex mu;
  static CalicoEtcdOpenFn open_fn = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (open_fn != nullptr) return open_fn;
  std::vector<std::string> tried;
  for (const std::string& dir : ModuleDirs()) {
    std::string path = dir + "/" + kCalicoEtcdModule;
    if (::access(path.c_str(), R_OK) != 0) {
      tried.push_back(dir);
      continue;
    }
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      return Unavailable(std::string("cannot load the etcd backend: ") + ::dlerror());
    }
    void* sym = ::dlsym(handle, kCalicoEtcdOpenSymbol);
    if (sym == nullptr) {
      return Unavailable(path + " is not a matching etcd backend module (no " +
                         kCalicoEtcdOpenSymbol + ")");
    }
    open_fn = reinterpret_cast<CalicoEtcdOpenFn>(sym);
    return open_fn;
  }
  return MakeError(ErrorCode::kUnsupported, std::string("the etcd backend module ") +
                                                kCalicoEtcdModule + " was not found (looked in " +
                                                StrJoin(tried, ", ") +
                                                "; set CALICO_LIB_DIR or run make install)");
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackend(const ClientConfig& config, EtcdClient etcd_client) {
  if (const char* env = std::getenv("CALICO_ETCD_CLIENT"); env != nullptr && *env != '\0') {
    const std::string_view which = env;
    if (which == "grpc") {
      etcd_client = EtcdClient::kGrpc;
    } else if (which == "http") {
      etcd_client = EtcdClient::kHttp;
    } else {
      return InvalidArgument("CALICO_ETCD_CLIENT=" + std::string(which) +
                             ": use grpc (the gRPC module) or http (etcd's JSON gateway)");
    }
  }
  auto open_grpc = [etcd = config.etcd]() -> Result<std::unique_ptr<Backend>> {
    ASSIGN_OR_RETURN(CalicoEtcdOpenFn open_fn, LoadEtcdModule());
    std::unique_ptr<Backend> backend;
    Error error(ErrorCode::kInternal, "");
    if (open_fn(&etcd, &backend, &error) != 0) return Unexpected(std::move(error));
    return backend;
  };
  if (config.type == DatastoreType::kEtcdV3 && etcd_client == EtcdClient::kHttp) {
    // An etcd that refuses its gateway to this client (etcdhttp/etcd_http_backend.h) is reached
    // through the gRPC module instead.
    return etcdhttp::OpenEtcdHttpBackend(config.etcd, open_grpc);
  }
  if (config.type == DatastoreType::kEtcdV3) return open_grpc();
  ASSIGN_OR_RETURN(auto local, SqliteBackend::Open(
                                   config.local_path, SqliteBackend::kDefaultHistory,
                                   config.create_local_store ? SqliteBackend::OpenMode::kCreate
                                                             : SqliteBackend::OpenMode::kExisting));
  return std::unique_ptr<Backend>(std::move(local));
}

}  // namespace calico::datastore
