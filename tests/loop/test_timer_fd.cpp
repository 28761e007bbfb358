#include "loop/timer_fd.hpp"

#include <gtest/gtest.h>
#include <sys/timerfd.h>
#include <time.h>

#include <cstring>
#include <thread>
#include <vector>

#include "loop/timer.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using namespace std::chrono_literals;
using TimerFdTest = test::LoopTest;

TEST_F(TimerFdTest, MonotonicIntervalWithNanosecondValues) {
  auto timer = TimerFd::create(loop, TimerClock::monotonic);
  ASSERT_TRUE(timer);
  std::uint64_t total = 0;
  int calls = 0;
  ASSERT_FALSE(timer->start(1500us, 750'000ns, [&](TimerFd::Expiry e) {
    EXPECT_FALSE(e.clock_changed);
    EXPECT_GE(e.count, 1u);
    total += e.count;
    if (++calls == 5) {
      timer->stop();
    }
  }));
  loop.run();
  EXPECT_EQ(calls, 5);
  EXPECT_GE(total, 5u);
}

TEST_F(TimerFdTest, BoottimeOneShot) {
  auto timer = TimerFd::create(loop, TimerClock::boottime);
  ASSERT_TRUE(timer);
  int calls = 0;
  ASSERT_FALSE(timer->start(1ms, 0ns, [&](TimerFd::Expiry e) {
    EXPECT_EQ(e.count, 1u);
    ++calls;
    timer->stop();
  }));
  loop.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(timer->clock(), TimerClock::boottime);
}

TEST_F(TimerFdTest, MissedExpirationsAreCountedNotLost) {
  auto timer = TimerFd::create(loop, TimerClock::monotonic);
  ASSERT_TRUE(timer);
  std::uint64_t first_count = 0;
  ASSERT_FALSE(timer->start(1ms, 1ms, [&](TimerFd::Expiry e) {
    first_count = e.count;
    timer->stop();
  }));
  // Keep the loop busy for 30 ms before it ever looks at the timer.
  Timer busy(loop);
  busy.start(0ms, [] { std::this_thread::sleep_for(30ms); });
  loop.run();
  EXPECT_GE(first_count, 10u);  // about 30 expirations happened while the loop was blocked
}

TEST_F(TimerFdTest, AbsoluteWallClockTimeFiresOnce) {
  auto timer = TimerFd::create(loop, TimerClock::realtime);
  ASSERT_TRUE(timer);
  auto at = std::chrono::system_clock::now() + 20ms;
  std::chrono::system_clock::time_point fired_at{};
  ASSERT_FALSE(timer->start_at(at, 0ns, [&](TimerFd::Expiry e) {
    if (e.clock_changed && e.count == 0) {
      return;  // someone set the clock (WallClockSetIsReported may run in parallel): still armed
    }
    EXPECT_EQ(e.count, 1u);
    fired_at = std::chrono::system_clock::now();
    timer->stop();
  }));
  loop.run();
  EXPECT_GE(fired_at, at);
}

// A clock set between a one-shot's expiry and the loop's read of it: the kernel answers the read with
// ECANCELED and discards the expiry, and the timer is no longer armed. Once the expiry was lost and a
// parallel WallClockSetIsReported (any process's clock set does it) left AbsoluteWallClockTimeFiresOnce
// waiting forever. Needs CAP_SYS_TIME.
TEST_F(TimerFdTest, AOneShotExpiryJustBeforeAClockSetIsStillReported) {
  auto timer = TimerFd::create(loop, TimerClock::realtime);
  ASSERT_TRUE(timer);
  std::vector<TimerFd::Expiry> seen;
  ASSERT_FALSE(timer->start_at(std::chrono::system_clock::now() + 1ms, 0ns, [&](TimerFd::Expiry e) {
    seen.push_back(e);
    loop.stop();
  }));
  // Expired (the kernel disarms a one-shot when it fires), and not read: the loop has not run.
  auto disarmed = [&] {
    itimerspec left{};
    return ::timerfd_gettime(timer->fd(), &left) == 0 && left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 0;
  };
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       !disarmed() && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(disarmed());
  auto set_clock = [] {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return ::clock_settime(CLOCK_REALTIME, &now) == 0;
  };
  if (!set_clock()) {
    timer->stop();
    GTEST_SKIP() << "cannot set the clock here (needs CAP_SYS_TIME): " << std::strerror(errno);
  }
  run_expecting_stop(5s);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].count, 1u);
  EXPECT_TRUE(seen[0].clock_changed);
  // Delivered once: the next clock set reports the change alone.
  ASSERT_TRUE(set_clock());
  run_expecting_stop(5s);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].count, 0u);
  EXPECT_TRUE(seen[1].clock_changed);
  timer->stop();
}

TEST_F(TimerFdTest, AbsoluteScheduleNeedsTheRealtimeClock) {
  auto timer = TimerFd::create(loop, TimerClock::monotonic);
  ASSERT_TRUE(timer);
  EXPECT_EQ(timer->start_at(std::chrono::system_clock::now(), 1s, [](TimerFd::Expiry) {}),
            std::errc::invalid_argument);
  EXPECT_EQ(timer->start(0ns, 1s, [](TimerFd::Expiry) {}), std::errc::invalid_argument);
}

TEST(TimerFdBoundary, NextWholeMinute) {
  using namespace std::chrono;
  sys_seconds noon = sys_days(2026y / 11 / 23) + 12h;
  EXPECT_EQ(TimerFd::next_boundary(noon + 30s + 500ms, 1min), noon + 1min);
  EXPECT_EQ(TimerFd::next_boundary(noon, 1min), noon + 1min);  // on a boundary: the next one
  EXPECT_EQ(TimerFd::next_boundary(noon + 1s, 15min), noon + 15min);
  EXPECT_EQ(TimerFd::next_boundary(noon + 1s, 24h), sys_days(2026y / 11 / 24));
}

// Setting the wall clock (here: to what it already says, so nothing is really skewed) must be reported
// to a wall-clock schedule rather than silently shifting it. Needs CAP_SYS_TIME. Every wall-clock
// schedule on the machine sees the change, so the other realtime tests tolerate it.
TEST_F(TimerFdTest, WallClockSetIsReported) {
  auto timer = TimerFd::create(loop, TimerClock::realtime);
  ASSERT_TRUE(timer);
  auto minute = TimerFd::next_boundary(std::chrono::system_clock::now() + 1h, std::chrono::minutes(1));
  bool changed = false;
  ASSERT_FALSE(timer->start_at(minute, std::chrono::minutes(1), [&](TimerFd::Expiry e) {
    changed = e.clock_changed;
    EXPECT_EQ(e.count, 0u);
    timer->stop();
  }));
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (::clock_settime(CLOCK_REALTIME, &now) != 0) {
    timer->stop();
    GTEST_SKIP() << "cannot set the clock here (needs CAP_SYS_TIME): " << std::strerror(errno);
  }
  run_expecting_stop(5s);
  EXPECT_TRUE(changed);
}

}  // namespace
}  // namespace fg::loop
