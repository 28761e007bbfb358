#include "loop/pipe_listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>

#include "loop/unique_fd.hpp"

namespace fg::loop {
namespace {

// Removes a socket file that no daemon serves any more. Connecting tells: a live listener accepts the
// connection (or is too busy: EAGAIN from the non-blocking connect), while a file whose listener died
// refuses it. Anything that is not a socket is left alone, because it was not ours.
std::error_code remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? std::error_code() : errno_error();
  }
  if (!S_ISSOCK(st.st_mode)) {
    return errno_error(EEXIST);
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe) {
    return errno_error();
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int result = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  int err = errno;
  if (result == 0 || err == EAGAIN || err == EINPROGRESS) {
    return errno_error(EADDRINUSE);
  }
  if (err != ECONNREFUSED) {
    return errno_error(err);  // EACCES and the like: not ours to judge or remove
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return errno_error();
  }
  return {};
}

}  // namespace

std::expected<PipeListener, std::error_code> PipeListener::bind(Loop& loop, const std::string& path) {
  if (path.empty()) {
    return std::unexpected(errno_error(EINVAL));
  }
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return std::unexpected(errno_error(ENAMETOOLONG));
  }
  ignore_sigpipe();
  if (auto ec = remove_stale_socket(path)) {
    return std::unexpected(ec);
  }
  PipeListener listener;
  if (auto ec = listener.open([&](uv_pipe_t* h) { return uv_pipe_init(loop.raw(), h, 0); })) {
    return std::unexpected(ec);
  }
  if (int status = uv_pipe_bind(listener.handle_, path.c_str()); status < 0) {
    // libuv reports a missing directory as EACCES (for Windows' sake); say what really happened.
    std::error_code ignored;
    auto parent = std::filesystem::path(path).parent_path();
    if (status == UV_EACCES && !parent.empty() && !std::filesystem::exists(parent, ignored)) {
      return std::unexpected(errno_error(ENOENT));
    }
    return std::unexpected(uv_error(status));
  }
  // Before listen(), so a client can never connect while the mode is still the umask's. On failure the
  // listener's destructor closes the socket, and libuv removes the file.
  if (::chmod(path.c_str(), 0660) != 0) {
    return std::unexpected(errno_error());
  }
  listener.path_ = path;
  return listener;
}

std::error_code PipeListener::listen(AcceptCallback on_accept, int backlog) {
  if (handle_ == nullptr) {
    return uv_error(UV_EBADF);
  }
  on_accept_ = std::move(on_accept);
  return uv_error(uv_listen(reinterpret_cast<uv_stream_t*>(handle_), backlog, &PipeListener::on_connection));
}

void PipeListener::on_connection(uv_stream_t* server, int status) noexcept {
  auto* self = owner_of<PipeListener>(reinterpret_cast<uv_pipe_t*>(server));
  if (self == nullptr || !self->on_accept_) {
    return;
  }
  auto callback = self->on_accept_;  // see uv_handle.hpp: the callback may destroy *self
  if (status < 0) {
    callback(std::unexpected(uv_error(status)));
    return;
  }
  callback(StreamConnection::accept_from(self->handle_));
}

}  // namespace fg::loop
