// The software debounce (libgpiod v1, sysfs) with a fake clock: a level counts once it has held for the
// period; bounces count as nothing; edges given together are judged by their own timestamps.

#include "devices/gpio/debounce.hpp"

#include <gtest/gtest.h>

namespace fg::devices::gpio {
namespace {

using namespace std::chrono_literals;
using Time = Debouncer::Time;

TEST(GpioDebounce, AChangeCountsOnlyAfterThePeriod) {
  Debouncer d(20ms, false);
  d.edge(true, Time(100ms));
  ASSERT_TRUE(d.deadline());
  EXPECT_EQ(*d.deadline(), Time(120ms));
  EXPECT_FALSE(d.settle(Time(119ms)));
  const auto change = d.settle(Time(120ms));
  ASSERT_TRUE(change);
  EXPECT_TRUE(change->level);
  EXPECT_EQ(change->at, Time(100ms));  // the reading carries the time of the edge, not of the timer
  EXPECT_FALSE(d.deadline());
  EXPECT_TRUE(d.level());
}

TEST(GpioDebounce, BouncesWithinThePeriodCountAsNothing) {
  Debouncer d(20ms, false);
  EXPECT_FALSE(d.edge(true, Time(100ms)));
  EXPECT_TRUE(d.edge(false, Time(103ms)));  // back to the stable level: a bounce
  EXPECT_FALSE(d.deadline());
  EXPECT_FALSE(d.settle(Time(200ms)));
  EXPECT_FALSE(d.level());
}

TEST(GpioDebounce, TheLastOfABurstStartsThePeriodAgain) {
  Debouncer d(20ms, false);
  d.edge(true, Time(100ms));
  d.edge(false, Time(105ms));
  d.edge(true, Time(110ms));
  EXPECT_FALSE(d.settle(Time(125ms)));  // 20 ms after the first edge, but only 15 after the last
  const auto change = d.settle(Time(130ms));
  ASSERT_TRUE(change);
  EXPECT_EQ(change->at, Time(110ms));
}

TEST(GpioDebounce, EdgesReadTogetherAreJudgedByTheirTimestamps) {
  // A whole pulse, read from the kernel in one batch long after it happened: each level held longer
  // than the period, so both changes count when each edge is settled at its own time.
  Debouncer d(10ms, false);
  int changes = 0;
  for (const auto& [level, at] : {std::pair{true, Time(100ms)}, std::pair{false, Time(150ms)}}) {
    changes += d.settle(at) ? 1 : 0;
    d.edge(level, at);
    changes += d.settle(at) ? 1 : 0;
  }
  changes += d.settle(Time(500ms)) ? 1 : 0;
  EXPECT_EQ(changes, 2);
  EXPECT_FALSE(d.level());
}

TEST(GpioDebounce, AZeroPeriodPassesEveryChangeAtOnce) {
  Debouncer d(0ms, false);
  int changes = 0;
  for (int i = 1; i <= 6; ++i) {
    const Time at = Time(std::chrono::milliseconds(i));
    changes += d.settle(at) ? 1 : 0;
    d.edge(i % 2 == 1, at);
    changes += d.settle(at) ? 1 : 0;
  }
  EXPECT_EQ(changes, 6);  // three whole pulses, none lost although they came in one batch
}

TEST(GpioDebounce, ResetTakesALevelReadFromTheLine) {
  Debouncer d(20ms, false);
  d.edge(true, Time(1ms));
  d.reset(true);
  EXPECT_FALSE(d.deadline());
  EXPECT_TRUE(d.level());
}

}  // namespace
}  // namespace fg::devices::gpio
