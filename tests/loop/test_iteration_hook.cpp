#include "loop/iteration_hook.hpp"

#include <gtest/gtest.h>

#include "loop/timer.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::test {
namespace {

using namespace std::chrono_literals;

class CheckTest : public LoopTest {};
class PrepareTest : public LoopTest {};

TEST_F(CheckTest, RunsAfterTheCallbacksOfTheSameIteration) {
  loop::Check check(loop);
  loop::Timer timer(loop);
  std::vector<std::string> order;
  check.start([&] {
    order.push_back("check");
    if (order.size() >= 2) {
      loop.stop();
    }
  });
  timer.start(1ms, [&] { order.push_back("timer"); });
  run_expecting_stop();
  // The check phase of the iteration that ran the timer comes right after it.
  ASSERT_GE(order.size(), 2u);
  auto timer_at = std::find(order.begin(), order.end(), "timer");
  ASSERT_NE(timer_at, order.end());
  ASSERT_NE(timer_at + 1, order.end());
  EXPECT_EQ(*(timer_at + 1), "check");
  check.close();
  timer.close();
}

TEST_F(CheckTest, DoesNotKeepTheLoopAlive) {
  loop::Check check(loop);
  int runs = 0;
  check.start([&] { ++runs; });
  // With nothing else referenced, run() returns at once instead of spinning on the check handle.
  EXPECT_FALSE(loop.run_for(1s));
  check.close();
}

TEST_F(CheckTest, StopEndsTheCallbacks) {
  loop::Check check(loop);
  loop::Timer timer(loop);
  int runs = 0;
  check.start([&] {
    ++runs;
    check.stop();
  });
  timer.start(
      1ms, [] {}, 1ms);
  loop.run_for(30ms);
  EXPECT_EQ(runs, 1);
  check.close();
  timer.close();
}

TEST_F(PrepareTest, SeesATimersWorkBeforeTheLoopBlocks) {
  loop::Prepare prepare(loop);
  loop::Timer soon(loop);
  loop::Timer far(loop);
  bool work_queued = false;
  prepare.start([&] {
    if (work_queued) {
      loop.stop();
    }
  });
  soon.start(1ms, [&] { work_queued = true; });
  far.start(10s, [] {});
  // Had the prepare hook not run between the timer and the wait for descriptors, the loop would sleep
  // until the far timer and the run would hit its limit.
  EXPECT_FALSE(loop.run_for(2s));
  prepare.close();
  soon.close();
  far.close();
}

TEST_F(PrepareTest, DoesNotKeepTheLoopAlive) {
  loop::Prepare prepare(loop);
  prepare.start([] {});
  EXPECT_FALSE(loop.run_for(1s));
  prepare.close();
}

}  // namespace
}  // namespace fg::test
