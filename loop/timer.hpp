#pragma once
// Timer: a libuv timer on the loop's monotonic clock with millisecond resolution, for timeouts, retries
// and periodic work. (TimerFd is the one for nanoseconds, CLOCK_BOOTTIME and wall-clock schedules.)

#include <chrono>
#include <functional>

#include "loop/loop.hpp"
#include "loop/uv_handle.hpp"

namespace fg::loop {

class Timer : public UvHandle<uv_timer_t> {
 public:
  using Callback = std::function<void()>;

  explicit Timer(Loop& loop);
  Timer(Timer&&) noexcept = default;
  Timer& operator=(Timer&&) noexcept = default;
  ~Timer() = default;

  // Fires once after `timeout`, then every `repeat` if repeat > 0. Restarting replaces the schedule.
  void start(std::chrono::milliseconds timeout, Callback callback,
             std::chrono::milliseconds repeat = std::chrono::milliseconds(0));
  // Re-arms the countdown with the last timeout and callback: the restart-on-activity helper for
  // inactivity timeouts ("no byte for 5 s"), called whenever the watched activity happens.
  void restart();
  void stop() noexcept;

  bool active() const noexcept;
  // Time left until the timer fires (0 if inactive or due).
  std::chrono::milliseconds due_in() const noexcept;

 private:
  static void on_timer(uv_timer_t* handle) noexcept;

  Callback callback_;
  std::chrono::milliseconds timeout_{0};
  std::chrono::milliseconds repeat_{0};
};

}  // namespace fg::loop
