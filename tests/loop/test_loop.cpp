#include "loop/loop.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "loop/timer.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using namespace std::chrono_literals;
using LoopRun = test::LoopTest;

TEST_F(LoopRun, RunReturnsWhenNothingIsActive) {
  loop.run();  // would hang if an idle loop did not return
  SUCCEED();
}

TEST_F(LoopRun, RunForStopsAtTheLimitWhileHandlesAreActive) {
  int ticks = 0;
  Timer ticker(loop);
  ticker.start(
      1ms, [&] { ++ticks; }, 1ms);
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(loop.run_for(30ms));
  // libuv keeps time in whole milliseconds (truncated), so the limit may end up to 1 ms short.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 29ms);
  // The ticker was active all along and fired; how often depends on how much of the 30 ms this process
  // got (one tick on a loaded machine or under qemu), so only that it fired is asserted.
  EXPECT_GE(ticks, 1);
}

TEST_F(LoopRun, RunForReturnsEarlyWhenNothingIsLeft) {
  bool fired = false;
  Timer once(loop);
  once.start(1ms, [&] { fired = true; });
  EXPECT_FALSE(loop.run_for(1h));  // would take an hour if the deadline kept the loop alive
  EXPECT_TRUE(fired);
}

TEST_F(LoopRun, StopFromInsideACallback) {
  int ticks = 0;
  Timer ticker(loop);
  ticker.start(
      1ms,
      [&] {
        if (++ticks == 3) {
          loop.stop();
        }
      },
      1ms);
  loop.run();
  EXPECT_EQ(ticks, 3);
  EXPECT_TRUE(ticker.active());  // stop() ends run(), it does not close handles
}

TEST_F(LoopRun, StopOutsideARunDoesNotCutTheNextRunShort) {
  loop.stop();  // e.g. from a callback run during setup, before the loop runs
  int ticks = 0;
  Timer ticker(loop);
  ticker.start(
      1ms,
      [&] {
        if (++ticks == 3) {
          ticker.stop();
        }
      },
      1ms);
  loop.run();
  EXPECT_EQ(ticks, 3);
}

TEST_F(LoopRun, CloseFailsLoudlyWhileAHandleIsOpen) {
  {
    Timer open_timer(loop);
    open_timer.start(1h, [] {});
    testing::internal::CaptureStderr();
    auto ec = loop.close();
    std::string report = testing::internal::GetCapturedStderr();
    EXPECT_EQ(ec, std::errc::device_or_resource_busy);
    EXPECT_NE(report.find("open timer handle"), std::string::npos) << report;
  }
  EXPECT_FALSE(loop.close());  // the timer is gone: its close callback is reaped and close succeeds
}

TEST_F(LoopRun, NowIsMonotonic) {
  auto first = loop.now();
  Timer t(loop);
  t.start(5ms, [] {});
  loop.run();
  EXPECT_GE(loop.now() - first, 5ms);
}

// now() stays at the start of the iteration while time passes outside the loop; update_time() brings it
// to the clock, so a timer started next counts from then (a pulse's length: devices/gpio).
TEST_F(LoopRun, UpdateTimeBringsNowToTheClock) {
  loop.update_time();
  const auto before = loop.now();
  std::this_thread::sleep_for(30ms);  // the time that passes, not a wait for anything
  EXPECT_EQ(loop.now(), before);
  loop.update_time();
  EXPECT_GE(loop.now() - before, 30ms);
}

}  // namespace
}  // namespace fg::loop
