#pragma once
// StreamConnection: one accepted connection of a unix stream socket (a libuv pipe), made by PipeListener.
// It reads with a callback, writes with uv_write (the bytes are kept alive until libuv is done with
// them) and closes itself when the peer goes away or an error happens, saying why in a callback.
//
// Ownership follows uv_handle.hpp: the owner may destroy the connection at any time, also inside one of
// its callbacks; writes still queued are then dropped. Callbacks never run after close().
//
// Writing to a peer that has gone raises SIGPIPE, which would kill the process; libuv writes to pipes
// with plain write(2), which cannot ask for MSG_NOSIGNAL. So creating a PipeListener sets SIGPIPE to
// "ignore" if it was at its default (see ignore_sigpipe()); write errors then arrive as EPIPE.

#include <cstddef>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <system_error>

#include "loop/loop.hpp"
#include "loop/uv_handle.hpp"

namespace fg::loop {

class PipeListener;

class StreamConnection : public UvHandle<uv_pipe_t> {
 public:
  // Bytes as they arrive; the span is valid only during the call (message boundaries are not kept).
  using DataCallback = std::function<void(std::span<const char> data)>;
  // The connection ended by itself and is already closed: an empty code means the peer closed its
  // end (or end() finished), anything else is the read, write or shutdown error. Not called after
  // the owner's own close().
  using ClosedCallback = std::function<void(std::error_code reason)>;
  // The peer shut down its writing side (shutdown(SHUT_WR)) but still reads: reading has stopped, and
  // the connection stays open so the owner can answer and then call end().
  using EofCallback = std::function<void()>;

  StreamConnection(StreamConnection&&) noexcept = default;
  StreamConnection& operator=(StreamConnection&&) noexcept = default;
  ~StreamConnection() = default;

  // Starts reading. A peer that closes the whole connection gives on_closed({}). A peer that only
  // shuts down its writing side gives on_eof if one is set; without one the connection closes as if
  // the peer had gone (on_closed({})).
  std::error_code start_reading(DataCallback on_data, ClosedCallback on_closed, EofCallback on_eof = {});
  // Stops reading (the kernel buffers what comes meanwhile, then the peer's writes block).
  std::error_code stop_reading() noexcept;

  // Queues `data` for writing; it is written in order with earlier writes. A write error closes the
  // connection and is reported through on_closed.
  std::error_code write(std::string data);
  // Bytes accepted by write() that the kernel has not taken yet: how far a slow reader is behind.
  std::size_t write_queue_size() const noexcept;

  // The graceful close: stops reading, lets queued writes finish, shuts down the writing side (the
  // peer reads EOF after the last byte), then closes and calls on_closed. Keep the connection alive
  // until then; destroying or close()-ing it earlier drops what was still queued. Data the peer sends
  // after end() is not read; the kernel may then report ECONNRESET to the peer once it has read ours.
  // Returns an error, having closed the connection at once (without on_closed), if the shutdown
  // cannot start.
  std::error_code end() noexcept;
  // True between end() and the close it leads to.
  bool ending() const noexcept { return ending_; }

 private:
  friend class PipeListener;
  StreamConnection() noexcept = default;

  // Takes the next pending connection of a listening pipe.
  static std::expected<StreamConnection, std::error_code> accept_from(uv_pipe_t* server);

  uv_stream_t* stream() const noexcept { return reinterpret_cast<uv_stream_t*>(handle_); }
  // Closes the handle and reports `reason` through on_closed (once).
  void finish(std::error_code reason) noexcept;

  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_shutdown(uv_shutdown_t* req, int status) noexcept;

  DataCallback on_data_;
  ClosedCallback on_closed_;
  EofCallback on_eof_;
  bool ending_ = false;
};

// Sets SIGPIPE to "ignore" unless the program already chose a disposition of its own (a handler, or
// ignoring it). Process-wide, idempotent, and done by PipeListener::bind.
void ignore_sigpipe() noexcept;

}  // namespace fg::loop
