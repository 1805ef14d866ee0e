#include "calico/cni/delegate.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "calico/base/strings.h"
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

namespace {

// Writes `input` to the child's stdin while reading its stdout and stderr, without deadlock.
Status Pump(int in_fd, int out_fd, int err_fd, std::string_view input, std::string& out,
            std::string& err) {
  size_t written = 0;
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  std::vector<char> buf(65536);
  while (out_fd >= 0 || err_fd >= 0) {
    std::vector<pollfd> fds;
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return Unexpected(Error::FromErrno(errno, "poll plugin pipes"));
    }
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in_fd) {
        ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 || written == input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t n = ::read(p.fd, buf.data(), buf.size());
      if (n > 0) {
        (p.fd == out_fd ? out : err).append(buf.data(), static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      ::close(p.fd);
      (p.fd == out_fd ? out_fd : err_fd) = -1;
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  return OkStatus();
}

}  // namespace

Result<Json> DelegateInvoke(std::string_view type, std::string_view command,
                            std::map<std::string, std::string> env, std::string_view stdin_text) {
  ASSIGN_OR_RETURN(std::string path, FindPlugin(type, env["CNI_PATH"]));
  env["CNI_COMMAND"] = std::string(command);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = path;
  char* argv[] = {arg0.data(), nullptr};

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Unexpected(Error::FromErrno(errno, "pipe"));
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return Unexpected(Error::FromErrno(errno, "pipe"));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return Unexpected(Error::FromErrno(rc, "exec " + path));
  }
  std::string stdout_text, stderr_text;
  Status pumped = Pump(in[1], out[0], err[0], stdin_text, stdout_text, stderr_text);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  RETURN_IF_ERROR(pumped);
  Json result = Json::object();
  if (!stdout_text.empty()) {
    // Another plugin's output: the decoder limits apply (a failure leaves a discarded value).
    result = model::ParseJson(stdout_text).value_or(Json(Json::value_t::discarded));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string msg;
    if (result.is_object() && result.contains("msg") && result["msg"].is_string()) {
      msg = result["msg"].get<std::string>();
      if (result.contains("details") && result["details"].is_string() &&
          !result["details"].get<std::string>().empty()) {
        msg += "; " + result["details"].get<std::string>();
      }
    } else {
      msg = std::string(StrTrim(stderr_text.empty() ? stdout_text : stderr_text));
      if (msg.empty()) msg = "exited with status " + std::to_string(WEXITSTATUS(status));
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
