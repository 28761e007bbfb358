#include "loop/signal_fd.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using SignalFdTest = test::LoopTest;

class EachSignal : public test::LoopTest, public testing::WithParamInterface<int> {};

TEST_P(EachSignal, ReachesTheLoop) {
  int sig = GetParam();
  auto signals = SignalFd::create(loop, {SIGTERM, SIGHUP, SIGUSR1});
  ASSERT_TRUE(signals) << signals.error().message();
  signalfd_siginfo got{};
  signals->start([&](const signalfd_siginfo& info) {
    got = info;
    signals->stop();
  });
  ASSERT_EQ(::kill(::getpid(), sig), 0);  // process-directed, as systemd and kill(1) send it
  run_expecting_stop();
  EXPECT_EQ(static_cast<int>(got.ssi_signo), sig);
  EXPECT_EQ(static_cast<pid_t>(got.ssi_pid), ::getpid());
}

INSTANTIATE_TEST_SUITE_P(TermHupUsr1, EachSignal, testing::Values(SIGTERM, SIGHUP, SIGUSR1));

// libuv starts its thread pool lazily (getaddrinfo, fs work). A signal sent while those threads run must
// still reach the loop, not a worker (where SIGTERM's default action would kill the process).
TEST_F(SignalFdTest, ReachesTheLoopWhileLibuvWorkerThreadsRun) {
  auto signals = SignalFd::create(loop, {SIGTERM});
  ASSERT_TRUE(signals);
  int got = 0;
  signals->start([&](const signalfd_siginfo& info) {
    got = static_cast<int>(info.ssi_signo);
    signals->stop();
  });
  uv_work_t work{};
  ASSERT_EQ(uv_queue_work(
                loop.raw(), &work, [](uv_work_t*) { ::kill(::getpid(), SIGTERM); },  // from a worker thread
                [](uv_work_t*, int) {}),
            0);
  loop.run();
  EXPECT_EQ(got, SIGTERM);
}

TEST_F(SignalFdTest, UnblockedSignalIsRefused) {
  auto signals = SignalFd::create(loop, {SIGWINCH});  // main() did not block it
  ASSERT_FALSE(signals);
  EXPECT_EQ(signals.error(), std::errc::invalid_argument);
}

TEST_F(SignalFdTest, SeveralPendingSignalsAllArrive) {
  auto signals = SignalFd::create(loop, {SIGHUP, SIGUSR1});
  ASSERT_TRUE(signals);
  std::vector<int> got;
  signals->start([&](const signalfd_siginfo& info) {
    got.push_back(static_cast<int>(info.ssi_signo));
    if (got.size() == 2) {
      signals->stop();
    }
  });
  ::kill(::getpid(), SIGHUP);
  ::kill(::getpid(), SIGUSR1);
  run_expecting_stop();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{SIGHUP, SIGUSR1}));
}

}  // namespace
}  // namespace fg::loop

int main(int argc, char** argv) {
  // First thing, before any thread exists: what fieldgate's own main does.
  if (auto ec = fg::loop::block_signals({SIGTERM, SIGHUP, SIGUSR1})) {
    return 1;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
