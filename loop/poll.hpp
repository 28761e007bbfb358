#pragma once
// Poll: watch any file descriptor the kernel can epoll (tty, pipe, socket, eventfd, timerfd, sysfs GPIO
// value file, ...) for readable, writable, priority (POLLPRI) and disconnect events.
//
// Poll never owns or closes the descriptor. Known limits, from libuv:
// - regular files cannot be polled (create() fails with EPERM);
// - disconnect (EPOLLRDHUP) is only reported where the kernel supports it, so readers must still treat
//   a 0-byte read as end of stream;
// - two Polls on one descriptor are not allowed; libuv aborts.
// The legacy sysfs GPIO interface reports an edge as POLLPRI|POLLERR on the value file: watch `priority`
// and re-read the value (lseek to 0, read) after every wake-up. libuv passes POLLERR with POLLPRI to the
// callback as a normal priority event rather than as an error.

#include <chrono>
#include <expected>
#include <functional>

#include "loop/loop.hpp"
#include "loop/uv_handle.hpp"

namespace fg::loop {

enum class PollEvents : int {
  none = 0,
  readable = UV_READABLE,
  writable = UV_WRITABLE,
  disconnect = UV_DISCONNECT,
  priority = UV_PRIORITIZED,
};

constexpr PollEvents operator|(PollEvents a, PollEvents b) noexcept {
  return static_cast<PollEvents>(static_cast<int>(a) | static_cast<int>(b));
}
constexpr PollEvents operator&(PollEvents a, PollEvents b) noexcept {
  return static_cast<PollEvents>(static_cast<int>(a) & static_cast<int>(b));
}
// True if `set` contains any event of `wanted`.
constexpr bool has(PollEvents set, PollEvents wanted) noexcept {
  return (set & wanted) != PollEvents::none;
}

class Poll : public UvHandle<uv_poll_t> {
 public:
  // `status` is set when libuv reports an error for the descriptor (EBADF, ...); polling has then
  // stopped. Otherwise `events` holds what is ready.
  using Callback = std::function<void(std::error_code status, PollEvents events)>;

  static std::expected<Poll, std::error_code> create(Loop& loop, int fd);

  Poll(Poll&&) noexcept = default;
  Poll& operator=(Poll&&) noexcept = default;
  ~Poll() = default;

  std::error_code start(PollEvents events, Callback callback);
  // Changes the watched events while running and keeps the callback; PollEvents::none stops.
  std::error_code set_events(PollEvents events);
  std::error_code stop() noexcept;
  // Stops watching and releases the libuv handle at once (the descriptor leaves epoll before this
  // returns), leaving the descriptor open. Afterwards the caller may close it or give it to another
  // library; is_open() is false.
  void detach() noexcept { close(); }

  int fd() const noexcept { return fd_; }
  PollEvents events() const noexcept { return events_; }

 private:
  Poll(int fd) noexcept : fd_(fd) {}
  static void on_poll(uv_poll_t* handle, int status, int events) noexcept;

  int fd_ = -1;
  PollEvents events_ = PollEvents::none;
  Callback callback_;
};

}  // namespace fg::loop
