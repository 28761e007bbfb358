#pragma once
// ClockWatch: tells its owner when the wall clock becomes plausible, that is when it reads at or after a
// floor (a time before this program was written cannot be right). A Pi has no battery-backed clock: it
// boots saying 1970, or the time fake-hwclock saved at the last shutdown, until NTP sets it.
//
// No polling: one realtime timerfd armed at the floor itself, with TFD_TIMER_ABSTIME and
// TFD_TIMER_CANCEL_ON_SET (TimerFd::start_at). It wakes when anyone sets the clock (NTP's first step,
// date -s, clock_settime: read() says ECANCELED) and when the running clock reaches the floor, so a step
// and a clock that slews or drifts slowly into plausibility are both seen at the moment they happen.
// A clock set back below the floor after it was plausible is not reported: the watch has ended then. One
// slow fallback: if the timer fires while the clock still reads before the floor (the clock was set back
// in between), the clock is read every `fallback_period` (60 s) until it is plausible.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>

#include "loop/loop.hpp"
#include "loop/timer_fd.hpp"

namespace fg::loop {

// The default floor: 2026-01-01T00:00:00Z.
inline constexpr std::chrono::sys_seconds kWallClockFloor{std::chrono::seconds(1'767'225'600)};

// The environment variable that moves the floor, for tests only (the clock cannot be set back in a
// test): FIELDGATE_TEST_CLOCK_SET_AFTER=<milliseconds since the Unix epoch>. A test sets it in the future
// to play a board whose clock is not set yet.
inline constexpr const char* kClockFloorTestHook = "FIELDGATE_TEST_CLOCK_SET_AFTER";

// The floor this process uses: the test hook's value if it is set to a number, else kWallClockFloor.
// Read once; every caller in the process sees the same floor.
std::chrono::system_clock::time_point wall_clock_floor();
// Whether the hook moved the floor (for a warning in the log: a real deployment never sets it).
bool wall_clock_floor_is_test_hook();

// Whether the wall clock reads at or after `floor` right now.
bool wall_clock_plausible(std::chrono::system_clock::time_point floor = wall_clock_floor());

class ClockWatch {
 public:
  // Called with whether the clock is now plausible, each time the clock was set or reached the floor.
  // After the call with true the watch has stopped.
  using Callback = std::function<void(bool plausible)>;

  // `fallback_period`: how often the clock is read when the kernel's timer and the clock disagree (see
  // clock_watch.cpp); never otherwise.
  static std::expected<ClockWatch, std::error_code> create(
      Loop& loop, std::chrono::system_clock::time_point floor = wall_clock_floor(),
      std::chrono::milliseconds fallback_period = std::chrono::seconds(60));

  // Starts watching. If the clock is plausible already, `changed(true)` comes from the loop at once (the
  // timer's absolute time has passed), never from inside start().
  std::error_code start(Callback changed);
  std::error_code stop() noexcept;

  std::chrono::system_clock::time_point floor() const noexcept;
  bool plausible() const { return wall_clock_plausible(floor()); }
  // How many times the kernel said the clock was set while watching.
  std::uint64_t clock_sets() const noexcept;

  ClockWatch(ClockWatch&&) noexcept;
  ClockWatch& operator=(ClockWatch&&) noexcept;
  ~ClockWatch();

 private:
  struct State;
  explicit ClockWatch(std::unique_ptr<State> state) noexcept;
  // On the heap so the timer's callback keeps a stable pointer while the watch moves.
  std::unique_ptr<State> state_;
};

}  // namespace fg::loop
