#include "loop/timer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using namespace std::chrono_literals;
using TimerTest = test::LoopTest;

TEST_F(TimerTest, OneShotFiresOnce) {
  int fired = 0;
  Timer timer(loop);
  timer.start(2ms, [&] { ++fired; });
  loop.run();
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.active());
}

TEST_F(TimerTest, RepeatingUntilStopped) {
  int fired = 0;
  Timer timer(loop);
  timer.start(
      1ms,
      [&] {
        if (++fired == 4) {
          timer.stop();
        }
      },
      1ms);
  loop.run();
  EXPECT_EQ(fired, 4);
}

TEST_F(TimerTest, RestartOnActivityPostponesTheTimeout) {
  std::vector<std::string> events;
  Timer idle(loop);
  idle.start(40ms, [&] { events.push_back("idle"); });
  int activity = 0;
  Timer activity_source(loop);
  activity_source.start(
      10ms,
      [&] {
        events.push_back("activity");
        idle.restart();
        if (++activity == 8) {  // 80 ms of activity, twice the idle timeout
          activity_source.stop();
        }
      },
      10ms);
  loop.run();
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events.back(), "idle");  // never fired while activity went on, fired once after it stopped
}

TEST_F(TimerTest, DueInCountsDown) {
  Timer timer(loop);
  EXPECT_EQ(timer.due_in(), 0ms);
  timer.start(1h, [] {});
  EXPECT_GT(timer.due_in(), 59min);
  timer.stop();
}

TEST_F(TimerTest, CallbackMayReplaceItself) {
  std::vector<int> calls;
  Timer timer(loop);
  timer.start(1ms, [&] {
    calls.push_back(1);
    timer.start(1ms, [&] { calls.push_back(2); });  // replaces the running callback
    calls.push_back(3);                             // the running one is still intact
  });
  loop.run();
  EXPECT_EQ(calls, (std::vector<int>{1, 3, 2}));
}

TEST_F(TimerTest, OwnerMayBeDestroyedInsideItsCallback) {
  auto timer = std::make_unique<Timer>(loop);
  bool fired = false;
  timer->start(
      1ms,
      [&] {
        fired = true;
        timer.reset();  // frees the owner; the uv handle is freed later by the loop (ASan checks)
      },
      1ms);
  loop.run();
  EXPECT_TRUE(fired);
  EXPECT_EQ(timer, nullptr);
}

TEST_F(TimerTest, MovedTimerKeepsFiring) {
  int fired = 0;
  Timer first(loop);
  first.start(1ms, [&] { ++fired; });
  Timer second = std::move(first);
  EXPECT_FALSE(first.is_open());
  loop.run();
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace fg::loop
