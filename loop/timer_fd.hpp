#pragma once
// TimerFd: a kernel timer (timerfd) with nanosecond resolution on a chosen clock.
// - monotonic: intervals that never jump; stops while the system is suspended.
// - boottime: like monotonic, but counts time spent in suspend (a Pi woken by an RTC alarm).
// - realtime: absolute wall-clock schedules, such as every minute on the minute (start_at). These use
//   TFD_TIMER_CANCEL_ON_SET, so when the wall clock is set (NTP's first sync on a Pi without an RTC,
//   an admin, a leap smear step) the owner is told through Expiry::clock_changed instead of silently
//   drifting off its schedule. The timer stays armed at the same absolute times; the owner may re-arm.
// Expirations missed while the loop was busy are not lost: the callback gets their count.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>

#include "loop/loop.hpp"

namespace fg::loop {

enum class TimerClock { monotonic, boottime, realtime };

class TimerFd {
 public:
  struct Expiry {
    std::uint64_t count = 0;     // expirations since the last callback (> 1 if some were missed)
    // Realtime schedules only: the wall clock was set. count is 0, or 1 when a one-shot had expired
    // just before (the kernel's report of the set discards the expiry; TimerFd restores it).
    bool clock_changed = false;
  };
  using Callback = std::function<void(Expiry)>;

  static std::expected<TimerFd, std::error_code> create(Loop& loop, TimerClock clock);

  TimerFd(TimerFd&&) noexcept;
  TimerFd& operator=(TimerFd&&) noexcept;
  ~TimerFd();

  // Relative timer: first expiry after `initial` (> 0), then every `interval` (0 for one shot).
  std::error_code start(std::chrono::nanoseconds initial, std::chrono::nanoseconds interval,
                        Callback callback);
  // Absolute wall-clock schedule (realtime clock only, else EINVAL): first expiry at `first`, then every
  // `interval`. A `first` in the past expires at once.
  std::error_code start_at(std::chrono::system_clock::time_point first, std::chrono::nanoseconds interval,
                           Callback callback);
  // Disarms the timer.
  std::error_code stop() noexcept;

  TimerClock clock() const noexcept;
  int fd() const noexcept;

  // The first multiple of `period` since the Unix epoch after `now`: next_boundary(now, 1min) is the next
  // whole minute. (UTC, so hour and day boundaries are UTC ones.)
  static std::chrono::system_clock::time_point next_boundary(std::chrono::system_clock::time_point now,
                                                             std::chrono::nanoseconds period);

 private:
  struct State;
  explicit TimerFd(std::unique_ptr<State> state) noexcept;
  std::error_code arm(int flags, std::chrono::nanoseconds value, std::chrono::nanoseconds interval,
                      Callback callback);
  std::unique_ptr<State> state_;
};

}  // namespace fg::loop
