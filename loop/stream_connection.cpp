#include "loop/stream_connection.hpp"

#include <poll.h>
#include <signal.h>

#include <climits>
#include <memory>

namespace fg::loop {
namespace {

// Every connection reads into this one buffer. libuv calls the alloc callback and then the read
// callback back to back, and the data callback consumes the bytes before it returns, so no two reads
// ever need the buffer at once. One buffer instead of one per connection keeps 256 idle clients from
// costing 16 MiB on a small board.
constexpr std::size_t kReadBufferSize = 64 * 1024;

char* read_buffer() {
  static thread_local std::unique_ptr<char[]> buffer(new char[kReadBufferSize]);
  return buffer.get();
}

// A write in flight: libuv needs the bytes until its write callback, so they travel with the request.
struct WriteRequest {
  uv_write_t req{};
  std::string data;
};

// After EOF, tells a peer that closed its whole socket from one that only shut down its writing side:
// the kernel marks a unix stream socket both-ways shut down (POLLHUP) only in the first case.
bool peer_closed_both_ways(uv_stream_t* stream) noexcept {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(stream), &fd) != 0) {
    return true;
  }
  pollfd p{fd, 0, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

}  // namespace

void ignore_sigpipe() noexcept {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) != 0) {
    return;
  }
  if ((current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, nullptr);
  }
}

std::expected<StreamConnection, std::error_code> StreamConnection::accept_from(uv_pipe_t* server) {
  StreamConnection connection;
  if (auto ec = connection.open([&](uv_pipe_t* h) { return uv_pipe_init(server->loop, h, 0); })) {
    return std::unexpected(ec);
  }
  // On failure the destructor closes the initialised handle (uv_close, not delete).
  if (int status = uv_accept(reinterpret_cast<uv_stream_t*>(server), connection.stream()); status < 0) {
    return std::unexpected(uv_error(status));
  }
  return connection;
}

std::error_code StreamConnection::start_reading(DataCallback on_data, ClosedCallback on_closed,
                                                EofCallback on_eof) {
  if (handle_ == nullptr || ending_) {
    return uv_error(UV_EBADF);
  }
  on_data_ = std::move(on_data);
  on_closed_ = std::move(on_closed);
  on_eof_ = std::move(on_eof);
  return uv_error(uv_read_start(stream(), &StreamConnection::on_alloc, &StreamConnection::on_read));
}

std::error_code StreamConnection::stop_reading() noexcept {
  return handle_ == nullptr ? uv_error(UV_EBADF) : uv_error(uv_read_stop(stream()));
}

std::error_code StreamConnection::write(std::string data) {
  if (handle_ == nullptr) {
    return uv_error(UV_EBADF);
  }
  if (data.empty()) {
    return {};
  }
  if (data.size() > UINT_MAX) {
    return uv_error(UV_E2BIG);  // uv_buf_t holds an unsigned int length
  }
  auto request = std::make_unique<WriteRequest>();
  request->data = std::move(data);
  request->req.data = request.get();
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  if (int status = uv_write(&request->req, stream(), &buf, 1, &StreamConnection::on_write); status < 0) {
    return uv_error(status);
  }
  request.release();  // owned by libuv until on_write
  return {};
}

std::size_t StreamConnection::write_queue_size() const noexcept {
  return handle_ == nullptr ? 0 : uv_stream_get_write_queue_size(stream());
}

std::error_code StreamConnection::end() noexcept {
  if (handle_ == nullptr) {
    return uv_error(UV_EBADF);
  }
  if (ending_) {
    return {};
  }
  uv_read_stop(stream());
  auto* req = new uv_shutdown_t{};
  if (int status = uv_shutdown(req, stream(), &StreamConnection::on_shutdown); status < 0) {
    delete req;
    close();
    return uv_error(status);
  }
  ending_ = true;
  return {};
}

void StreamConnection::finish(std::error_code reason) noexcept {
  close();  // writes still queued come back to on_write as ECANCELED and find no owner
  ending_ = false;
  if (on_closed_) {
    auto callback = std::move(on_closed_);  // see uv_handle.hpp: the callback may destroy *this
    callback(reason);
  }
}

void StreamConnection::on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf) noexcept {
  *buf = uv_buf_init(read_buffer(), kReadBufferSize);
}

void StreamConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* self = owner_of<StreamConnection>(reinterpret_cast<uv_pipe_t*>(stream));
  if (self == nullptr || nread == 0) {
    return;  // 0 is libuv's EAGAIN
  }
  if (nread > 0) {
    if (self->on_data_) {
      auto callback = self->on_data_;
      callback(std::span<const char>(buf->base, static_cast<std::size_t>(nread)));
    }
    return;
  }
  if (nread != UV_EOF) {
    self->finish(uv_error(static_cast<int>(nread)));
    return;
  }
  uv_read_stop(stream);
  if (self->on_eof_ && !peer_closed_both_ways(stream)) {
    auto callback = self->on_eof_;
    callback();
    return;
  }
  self->finish({});
}

void StreamConnection::on_write(uv_write_t* req, int status) noexcept {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(req->data));
  if (status == 0 || status == UV_ECANCELED) {
    return;  // ECANCELED: the handle was closed; its owner knows
  }
  if (auto* self = owner_of<StreamConnection>(reinterpret_cast<uv_pipe_t*>(req->handle)); self != nullptr) {
    self->finish(uv_error(status));
  }
}

void StreamConnection::on_shutdown(uv_shutdown_t* req, int status) noexcept {
  auto* handle = reinterpret_cast<uv_pipe_t*>(req->handle);
  delete req;
  if (status == UV_ECANCELED) {
    return;
  }
  if (auto* self = owner_of<StreamConnection>(handle); self != nullptr) {
    self->finish(uv_error(status));
  }
}

}  // namespace fg::loop
