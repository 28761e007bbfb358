#pragma once
// PipeListener: a unix stream socket bound to a path and listening (a libuv pipe server), the daemon's
// end of a local control socket. Each accepted client is a StreamConnection.
//
// bind() takes over a socket file left behind by a crashed daemon, but never one that is alive: the
// file is removed only if it is a socket and connecting to it is refused. It sets the mode to 0660
// before listening, so no client can connect while the mode is still the umask's. Closing the
// listener removes the socket file (libuv unlinks it before closing the descriptor).
//
// Known limits: two daemons starting at the same instant may both find the old file stale, and the
// second bind then fails with EADDRINUSE, which is the right outcome but is not told apart from a live
// daemon. The path must fit sockaddr_un (107 bytes); longer paths fail with ENAMETOOLONG instead of
// being cut short as libuv would.

#include <expected>
#include <functional>
#include <string>
#include <system_error>

#include "loop/loop.hpp"
#include "loop/stream_connection.hpp"
#include "loop/uv_handle.hpp"

namespace fg::loop {

class PipeListener : public UvHandle<uv_pipe_t> {
 public:
  // A new client, or the error libuv met accepting one (EMFILE, ...); the listener keeps listening.
  using AcceptCallback = std::function<void(std::expected<StreamConnection, std::error_code> client)>;

  // Binds to `path` with mode 0660. Fails with EADDRINUSE if a daemon answers there, EEXIST if the
  // path is something other than a socket, ENAMETOOLONG if it does not fit, or what bind(2) says.
  // Also makes SIGPIPE ignored (see stream_connection.hpp).
  static std::expected<PipeListener, std::error_code> bind(Loop& loop, const std::string& path);

  PipeListener(PipeListener&&) noexcept = default;
  PipeListener& operator=(PipeListener&&) noexcept = default;
  ~PipeListener() = default;

  // Starts accepting; `backlog` is listen(2)'s queue of connections not yet accepted.
  std::error_code listen(AcceptCallback on_accept, int backlog = 128);

  const std::string& path() const noexcept { return path_; }

 private:
  PipeListener() noexcept = default;
  static void on_connection(uv_stream_t* server, int status) noexcept;

  std::string path_;
  AcceptCallback on_accept_;
};

}  // namespace fg::loop
