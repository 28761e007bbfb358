#include "loop/timer_fd.hpp"

#include <sys/timerfd.h>
#include <unistd.h>
#include <algorithm>

#include "loop/fd_watch.hpp"

namespace fg::loop {
namespace {

clockid_t clock_id(TimerClock clock) {
  switch (clock) {
    case TimerClock::monotonic:
      return CLOCK_MONOTONIC;
    case TimerClock::boottime:
      return CLOCK_BOOTTIME;
    case TimerClock::realtime:
      return CLOCK_REALTIME;
  }
  return CLOCK_MONOTONIC;
}

timespec to_timespec(std::chrono::nanoseconds ns) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(ns);
  return {static_cast<time_t>(secs.count()), static_cast<long>((ns - secs).count())};
}

}  // namespace

struct TimerFd::State {
  FdWatch watch;
  TimerClock clock;
  Callback callback;
  bool one_shot_due = false;  // armed without an interval, and its expiry not yet delivered

  void on_readable() {
    std::uint64_t count = 0;
    Expiry expiry;
    if (::read(watch.fd.get(), &count, sizeof count) == sizeof count) {
      expiry.count = count;
      one_shot_due = false;
    } else if (errno == ECANCELED) {
      expiry.clock_changed = true;
      // The kernel's ECANCELED also discards expirations not yet read: a one-shot that expired just before
      // the clock was set is disarmed and would never be reported. It did expire, so say so.
      itimerspec now{};
      if (one_shot_due && ::timerfd_gettime(watch.fd.get(), &now) == 0 && now.it_value.tv_sec == 0 &&
          now.it_value.tv_nsec == 0) {
        expiry.count = 1;
        one_shot_due = false;
      }
    } else {
      return;  // EAGAIN: the timer was re-armed between the wake-up and the read
    }
    if (callback) {
      auto run = callback;
      run(expiry);
    }
  }
};

TimerFd::TimerFd(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
TimerFd::TimerFd(TimerFd&&) noexcept = default;
TimerFd& TimerFd::operator=(TimerFd&&) noexcept = default;
TimerFd::~TimerFd() = default;

std::expected<TimerFd, std::error_code> TimerFd::create(Loop& loop, TimerClock clock) {
  auto watch = FdWatch::adopt(loop, ::timerfd_create(clock_id(clock), TFD_NONBLOCK | TFD_CLOEXEC));
  if (!watch) {
    return std::unexpected(watch.error());
  }
  return TimerFd(std::make_unique<State>(State{std::move(*watch), clock, {}, false}));
}

std::error_code TimerFd::start(std::chrono::nanoseconds initial, std::chrono::nanoseconds interval,
                               Callback callback) {
  if (initial <= std::chrono::nanoseconds::zero() || interval < std::chrono::nanoseconds::zero()) {
    return std::make_error_code(std::errc::invalid_argument);  // a zero it_value would disarm
  }
  return arm(0, initial, interval, std::move(callback));
}

std::error_code TimerFd::start_at(std::chrono::system_clock::time_point first,
                                  std::chrono::nanoseconds interval, Callback callback) {
  if (state_->clock != TimerClock::realtime || interval < std::chrono::nanoseconds::zero()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  // An absolute time of 0 would disarm the timer; the epoch itself is never a real schedule.
  auto since_epoch = std::max(first.time_since_epoch(), std::chrono::system_clock::duration(1));
  return arm(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, since_epoch, interval, std::move(callback));
}

std::error_code TimerFd::arm(int flags, std::chrono::nanoseconds value, std::chrono::nanoseconds interval,
                             Callback callback) {
  state_->callback = std::move(callback);
  itimerspec spec{to_timespec(interval), to_timespec(value)};
  if (::timerfd_settime(state_->watch.fd.get(), flags, &spec, nullptr) < 0) {
    return errno_error();
  }
  state_->one_shot_due = interval == std::chrono::nanoseconds::zero();
  return state_->watch.poll.start(PollEvents::readable,
                                  [s = state_.get()](std::error_code, PollEvents) { s->on_readable(); });
}

std::error_code TimerFd::stop() noexcept {
  itimerspec disarmed{};
  if (::timerfd_settime(state_->watch.fd.get(), 0, &disarmed, nullptr) < 0) {
    return errno_error();
  }
  state_->one_shot_due = false;
  return state_->watch.poll.stop();
}

TimerClock TimerFd::clock() const noexcept {
  return state_->clock;
}
int TimerFd::fd() const noexcept {
  return state_->watch.fd.get();
}

std::chrono::system_clock::time_point TimerFd::next_boundary(std::chrono::system_clock::time_point now,
                                                             std::chrono::nanoseconds period) {
  using std::chrono::system_clock;
  auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
  auto next = (since_epoch / period + 1) * period;
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(next));
}

}  // namespace fg::loop
