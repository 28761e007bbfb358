#include "loop/clock_watch.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "loop/timer.hpp"

namespace fg::loop {
namespace {

std::optional<std::chrono::system_clock::time_point> floor_from_test_hook() {
  const char* text = std::getenv(kClockFloorTestHook);
  if (text == nullptr) {
    return std::nullopt;
  }
  std::int64_t ms = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, ms);
  if (ec != std::errc() || ptr != end || ptr == text) {
    return std::nullopt;  // not a number: the hook is ignored, as if it were unset
  }
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

const std::optional<std::chrono::system_clock::time_point>& test_floor() {
  static const auto floor = floor_from_test_hook();
  return floor;
}

}  // namespace

std::chrono::system_clock::time_point wall_clock_floor() {
  return test_floor().value_or(kWallClockFloor);
}

bool wall_clock_floor_is_test_hook() {
  return test_floor().has_value();
}

bool wall_clock_plausible(std::chrono::system_clock::time_point floor) {
  return std::chrono::system_clock::now() >= floor;
}

struct ClockWatch::State {
  TimerFd timer;
  Timer fallback;
  std::chrono::system_clock::time_point floor;
  std::chrono::milliseconds fallback_period;
  Callback changed;
  std::uint64_t sets = 0;

  std::error_code arm() {
    return timer.start_at(floor, std::chrono::nanoseconds::zero(), [this](TimerFd::Expiry e) { on_wake(e); });
  }

  void on_wake(TimerFd::Expiry expiry) {
    if (expiry.clock_changed) {
      ++sets;
    }
    bool plausible = wall_clock_plausible(floor);
    if (plausible) {
      stop();
    } else if (expiry.clock_changed) {
      // Set, but still before the floor: wait for the floor again. (The kernel keeps a cancelled absolute
      // timer armed; arming it anew does not depend on that.)
      arm();
    } else if (!fallback.active()) {
      // The timer reached the floor, yet the clock reads before it: set back in between, or a clock that
      // is not the kernel's (LD_PRELOAD libfaketime in tests/install/first-boot-clock.sh). Arming at the
      // floor again would fire at once, over and over; so the timerfd stays as it is (on the kernel's
      // list for clock sets, which still wake it) and a slow monotonic check covers the rest.
      fallback.start(
          fallback_period, [this] { on_fallback(); }, fallback_period);
    }
    report(plausible);
  }

  void on_fallback() {
    if (wall_clock_plausible(floor)) {
      stop();
      report(true);
    }
  }

  void report(bool plausible) {
    if (changed) {
      auto run = changed;  // the owner may stop or restart the watch from its callback
      run(plausible);
    }
  }

  std::error_code stop() noexcept {
    fallback.stop();
    return timer.stop();
  }
};

std::expected<ClockWatch, std::error_code> ClockWatch::create(Loop& loop,
                                                              std::chrono::system_clock::time_point floor,
                                                              std::chrono::milliseconds fallback_period) {
  auto timer = TimerFd::create(loop, TimerClock::realtime);
  if (!timer) {
    return std::unexpected(timer.error());
  }
  return ClockWatch(
      std::make_unique<State>(State{std::move(*timer), Timer(loop), floor, fallback_period, {}, 0}));
}

ClockWatch::ClockWatch(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
ClockWatch::ClockWatch(ClockWatch&&) noexcept = default;
ClockWatch& ClockWatch::operator=(ClockWatch&&) noexcept = default;
ClockWatch::~ClockWatch() = default;

std::error_code ClockWatch::start(Callback changed) {
  state_->changed = std::move(changed);
  return state_->arm();
}

std::error_code ClockWatch::stop() noexcept {
  return state_->stop();
}

std::chrono::system_clock::time_point ClockWatch::floor() const noexcept {
  return state_->floor;
}

std::uint64_t ClockWatch::clock_sets() const noexcept {
  return state_->sets;
}

}  // namespace fg::loop
