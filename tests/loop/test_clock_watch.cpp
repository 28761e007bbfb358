#include "loop/clock_watch.hpp"

#include <gtest/gtest.h>
#include <time.h>

#include <cstring>
#include <vector>

#include "loop/timer.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using namespace std::chrono_literals;
using ClockWatchTest = test::LoopTest;

TEST_F(ClockWatchTest, AClockPastTheFloorIsReportedFromTheLoopNotFromStart) {
  auto watch = ClockWatch::create(loop, std::chrono::system_clock::now() - 1h);
  ASSERT_TRUE(watch);
  EXPECT_TRUE(watch->plausible());
  std::vector<bool> calls;
  ASSERT_FALSE(watch->start([&](bool plausible) { calls.push_back(plausible); }));
  EXPECT_TRUE(calls.empty());
  loop.run();  // ends by itself: the watch stops after reporting a plausible clock
  EXPECT_EQ(calls, std::vector<bool>{true});
}

// The running clock reaching the floor wakes the watch without anyone setting the clock: a clock that
// drifts into plausibility is seen without polling.
TEST_F(ClockWatchTest, TheRunningClockReachingTheFloorIsReported) {
  auto floor = std::chrono::system_clock::now() + 50ms;
  auto watch = ClockWatch::create(loop, floor);
  ASSERT_TRUE(watch);
  EXPECT_FALSE(watch->plausible());
  std::vector<bool> calls;
  std::chrono::system_clock::time_point seen_at{};
  ASSERT_FALSE(watch->start([&](bool plausible) {
    calls.push_back(plausible);
    seen_at = std::chrono::system_clock::now();
  }));
  loop.run();
  ASSERT_FALSE(calls.empty());
  EXPECT_TRUE(calls.back());
  EXPECT_GE(seen_at, floor);
}

// Setting the wall clock wakes the watch at once, even though the floor is an hour away. The clock is
// set to what it already says (clock_settime with the current time counts as a set), so nothing on the
// machine is skewed. Needs CAP_SYS_TIME (CI runs tests as root).
TEST_F(ClockWatchTest, SettingTheClockWakesTheWatch) {
  auto watch = ClockWatch::create(loop, std::chrono::system_clock::now() + 1h);
  ASSERT_TRUE(watch);
  std::vector<bool> calls;
  ASSERT_FALSE(watch->start([&](bool plausible) {
    calls.push_back(plausible);
    watch->stop();
  }));
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (::clock_settime(CLOCK_REALTIME, &now) != 0) {
    watch->stop();
    GTEST_SKIP() << "cannot set the clock here (needs CAP_SYS_TIME): " << std::strerror(errno);
  }
  loop.run();  // ends when the callback stops the watch; without a wake it would wait an hour
  EXPECT_EQ(calls, std::vector<bool>{false});  // woken, but still before the floor
  EXPECT_GE(watch->clock_sets(), 1u);
}

// After a set that leaves the clock before the floor, the watch still waits for the floor.
TEST_F(ClockWatchTest, AfterASetBeforeTheFloorTheWatchStillWaitsForTheFloor) {
  auto floor = std::chrono::system_clock::now() + 200ms;
  auto watch = ClockWatch::create(loop, floor);
  ASSERT_TRUE(watch);
  std::vector<bool> calls;
  ASSERT_FALSE(watch->start([&](bool plausible) { calls.push_back(plausible); }));
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (::clock_settime(CLOCK_REALTIME, &now) != 0) {
    watch->stop();
    GTEST_SKIP() << "cannot set the clock here (needs CAP_SYS_TIME): " << std::strerror(errno);
  }
  loop.run();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_FALSE(calls.front());
  EXPECT_TRUE(calls.back());
  EXPECT_GE(std::chrono::system_clock::now(), floor);
}

TEST(ClockFloor, DefaultIsTheStartOf2026) {
  using namespace std::chrono;
  EXPECT_EQ(kWallClockFloor, sys_days(2026y / 1 / 1));
  // This test program runs without the hook; the e2e tests set it for the gateway.
  if (!wall_clock_floor_is_test_hook()) {
    EXPECT_EQ(wall_clock_floor(), kWallClockFloor);
  }
}

}  // namespace
}  // namespace fg::loop
