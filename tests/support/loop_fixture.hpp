#pragma once
// LoopTest: a fixture for tests that run a real loop. It checks, after each test, that every handle
// was closed (Loop::close succeeds, i.e. uv_loop_close returns 0) and that no descriptor leaked.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "loop/loop.hpp"

namespace fg::test {

// libuv opens a process-wide pipe (its signal lock) the first time any loop is created and keeps it
// until exit; open and close one loop first so that pipe is not mistaken for a leak.
inline int count_open_fds_after_libuv_init() {
  static const bool initialised = [] {
    uv_loop_t warm_up;
    uv_loop_init(&warm_up);
    uv_loop_close(&warm_up);
    return true;
  }();
  (void)initialised;
  int n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

class LoopTest : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_FALSE(loop.close()) << "a handle was left open";
    EXPECT_EQ(count_open_fds_after_libuv_init(), fds_before_) << "a descriptor leaked";
  }

  // Runs the loop until stop() or `limit`; fails the test if the limit was reached, which means an
  // expected event never came.
  void run_expecting_stop(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    EXPECT_FALSE(loop.run_for(limit)) << "the loop ran into its limit: an expected event never came";
  }

  // Counted before the loop exists, so the loop's own descriptors are part of what must be released.
  int fds_before_ = count_open_fds_after_libuv_init();
  loop::Loop loop;
};

}  // namespace fg::test
