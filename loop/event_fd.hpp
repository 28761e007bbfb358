#pragma once
// EventFd: a kernel counter (eventfd) that wakes the loop. notify() adds to the counter; the callback
// receives the sum of everything added since it last ran, so several notifies may arrive as one call.

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>

#include "loop/loop.hpp"

namespace fg::loop {

class EventFd {
 public:
  using Callback = std::function<void(std::uint64_t count)>;

  static std::expected<EventFd, std::error_code> create(Loop& loop);

  EventFd(EventFd&&) noexcept;
  EventFd& operator=(EventFd&&) noexcept;
  ~EventFd();

  std::error_code start(Callback callback);
  std::error_code stop() noexcept;
  // Adds `count` (> 0) to the counter. Safe from any thread or a signal handler (one write(2)).
  std::error_code notify(std::uint64_t count = 1) const noexcept;
  int fd() const noexcept;

 private:
  struct State;
  explicit EventFd(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace fg::loop
