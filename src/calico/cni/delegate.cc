#include "calico/cni/delegate.h"

#include <sys/stat.h>

#include <vector>

#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/model/json_codec.h"

namespace calico::cni {

Result<std::string> FindPlugin(std::string_view type, std::string_view cni_path) {
  if (type.empty() || type.find('/') != std::string_view::npos) {
    return InvalidArgument("invalid plugin type \"" + std::string(type) + "\"");
  }
  for (const std::string& dir : StrSplit(cni_path, ':', true)) {
    std::string candidate = dir + "/" + std::string(type);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
      return candidate;
    }
  }
  return NotFound("failed to find plugin \"" + std::string(type) + "\" in path [" +
                  std::string(cni_path) + "]");
}

Result<Json> DelegateInvoke(std::string_view type, std::string_view command,
                            std::map<std::string, std::string> env, std::string_view stdin_text) {
  ASSIGN_OR_RETURN(std::string path, FindPlugin(type, env["CNI_PATH"]));
  env["CNI_COMMAND"] = std::string(command);
  // The plugin gets exactly the CNI environment (as libcni's Invoke does), the network
  // configuration on stdin, and runs until it exits.
  auto ran = RunSubprocess({.argv = {path}, .env = std::move(env)}, {.input = stdin_text});
  if (!ran) return Unexpected(ran.error());
  const std::string& stdout_text = ran->out;
  const std::string& stderr_text = ran->err;
  const int exit_code = ran->exit_code;
  Json result = Json::object();
  if (!stdout_text.empty()) {
    // Another plugin's output: the decoder limits apply (a failure leaves a discarded value).
    result = model::ParseJson(stdout_text).value_or(Json(Json::value_t::discarded));
  }
  if (exit_code != 0) {
    std::string msg;
    if (result.is_object() && result.contains("msg") && result["msg"].is_string()) {
      msg = result["msg"].get<std::string>();
      if (result.contains("details") && result["details"].is_string() &&
          !result["details"].get<std::string>().empty()) {
        msg += "; " + result["details"].get<std::string>();
      }
    } else {
      msg = std::string(StrTrim(stderr_text.empty() ? stdout_text : stderr_text));
      if (msg.empty()) msg = "exited with status " + std::to_string(exit_code);
    }
    return Unavailable(std::string(type) + " (" + std::string(command) + "): " + msg);
  }
  if (result.is_discarded()) {
    return InvalidArgument(std::string(type) +
                           " printed something that is not JSON: " + stdout_text.substr(0, 200));
  }
  return result;
}

}  // namespace calico::cni
