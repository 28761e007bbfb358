#pragma once
// Debouncer: the software debounce for libgpiod v1 and sysfs, the same rule as the kernel's
// debounce_period_us on v2: a change of level counts once the line has kept the new level for the
// period; a bounce (a change and back within the period) counts as nothing. Pure logic on monotonic
// times, so its tests run with a fake clock; the device arms a timer for deadline().
//
//   Debouncer d(20ms, level_at_start);
//   d.settle(t); d.edge(level, t);           // every edge the kernel reports, with its timestamp
//   if (auto when = d.deadline()) timer.start(*when - now, ...);
//   if (auto change = d.settle(now)) publish(change->level, change->at);

#include <chrono>
#include <optional>

namespace fg::devices::gpio {

class Debouncer {
 public:
  using Time = std::chrono::nanoseconds;  // CLOCK_MONOTONIC

  struct Change {
    bool level;
    Time at;  // the edge that began the level now held: what the reading's timestamp says
  };

  Debouncer(std::chrono::nanoseconds period, bool level) noexcept : period_(period), stable_(level), raw_(level) {}

  // The line was seen at `level` from `at` on. With a zero period the change counts at once: settle(at)
  // returns it. Edges must be given in time order, each after settle(at) with its own time, so that a
  // level that held long enough before the next edge counts even when both edges arrive together.
  // Returns true for a bounce: the line went back to the stable level before the period was over.
  bool edge(bool level, Time at) noexcept {
    if (level == raw_) {
      return false;
    }
    const bool bounce = raw_ != stable_;
    raw_ = level;
    raw_since_ = at;
    return bounce;
  }

  // When settle() must be called next; nullopt while the raw level equals the stable one.
  std::optional<Time> deadline() const noexcept {
    if (raw_ == stable_) {
      return std::nullopt;
    }
    return raw_since_ + period_;
  }

  // The stable level changed, if the raw level has held since deadline().
  std::optional<Change> settle(Time now) noexcept {
    if (raw_ == stable_ || now < raw_since_ + period_) {
      return std::nullopt;
    }
    stable_ = raw_;
    return Change{stable_, raw_since_};
  }

  bool level() const noexcept { return stable_; }
  // Starts again from a level read from the line (after a reopen or a pause).
  void reset(bool level) noexcept { stable_ = raw_ = level; }

 private:
  std::chrono::nanoseconds period_;
  bool stable_;
  bool raw_;
  Time raw_since_{0};
};

}  // namespace fg::devices::gpio
