#include "calico/ctl/testing/ctl_fixture.h"

#include <sstream>

namespace calico::ctl::testing {

template <typename Fn>
CommandOutcome CtlFixture::WithContext(const std::string& stdin_text, Fn&& fn) {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  std::function<Result<datastore::Client*>(const ClientOptions&)> open_client;
  if (!no_datastore_) {
    open_client = [this](const ClientOptions&) -> Result<datastore::Client*> {
      if (open_error_) return Unavailable(*open_error_);
      return &client_;
    };
  }
  Context ctx{.in = in,
              .out = out,
              .err = err,
              .open_client = std::move(open_client),
              .build = build_,
              .retry_sleep_ms = 0,
              .flows_get = flows_get_};
  const int code = fn(ctx);
  return {code, out.str(), err.str()};
}

CommandOutcome CtlFixture::Run(const std::vector<std::string>& args,
                               const std::string& stdin_text) {
  return WithContext(stdin_text, [&](Context& ctx) { return ctl::Run(registry_, args, ctx); });
}

CommandOutcome CtlFixture::RunHandler(const Handler& handler, const std::vector<std::string>& args,
                                      const std::string& stdin_text) {
  return WithContext(stdin_text, [&](Context& ctx) { return handler(args, ctx); });
}

}  // namespace calico::ctl::testing
