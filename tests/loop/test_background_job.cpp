#include "loop/background_job.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using BackgroundJobTest = test::LoopTest;

TEST_F(BackgroundJobTest, RunsOffTheLoopThreadAndReportsItsResultOnIt) {
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id job_thread, done_thread;
  std::error_code result;
  BackgroundJob job(loop);
  ASSERT_TRUE(job.start(
      [&] {
        job_thread = std::this_thread::get_id();
        return std::make_error_code(std::errc::no_space_on_device);
      },
      [&](std::error_code ec) {
        done_thread = std::this_thread::get_id();
        result = ec;
      }));
  EXPECT_TRUE(job.busy());
  loop.run();
  EXPECT_NE(job_thread, loop_thread);
  EXPECT_EQ(done_thread, loop_thread);
  EXPECT_EQ(result, std::errc::no_space_on_device);
  EXPECT_FALSE(job.busy());
}

TEST_F(BackgroundJobTest, OneJobAtATime) {
  std::promise<void> release;
  auto released = release.get_future().share();
  int done = 0;
  BackgroundJob job(loop);
  ASSERT_TRUE(job.start(
      [released] {
        released.wait();
        return std::error_code();
      },
      [&](std::error_code) { ++done; }));
  EXPECT_FALSE(job.start([] { return std::error_code(); }, [&](std::error_code) { ++done; }));
  release.set_value();
  loop.run();
  EXPECT_EQ(done, 1);
  // Free again once the first has reported.
  EXPECT_TRUE(job.start([] { return std::error_code(); }, [&](std::error_code) { ++done; }));
  loop.run();
  EXPECT_EQ(done, 2);
}

TEST_F(BackgroundJobTest, AnAbandonedJobRunsToItsEndAndReportsToNobody) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> ran{false};
  bool done = false;
  auto captured = std::make_shared<int>(7);
  std::weak_ptr<int> watch = captured;
  {
    BackgroundJob job(loop);
    ASSERT_TRUE(job.start(
        [released, &ran, captured = std::move(captured)] {
          released.wait();
          ran = true;
          return std::error_code();
        },
        [&](std::error_code) { done = true; }));
  }  // the owner goes while the job waits
  release.set_value();
  loop.run();  // the loop waits for the job, as for a handle
  EXPECT_TRUE(ran);
  EXPECT_FALSE(done);
  EXPECT_TRUE(watch.expired()) << "what the job captured is released on the loop thread";
}

}  // namespace
}  // namespace fg::loop
