#include "loop/async_poll.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/task.hpp"
#include "loop/timer.hpp"
#include "loop/unique_fd.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using namespace std::chrono_literals;
using AsyncPollTest = test::LoopTest;

struct SocketPair {
  UniqueFd a, b;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

// Two coroutines bounce a counter over a socket pair; each waits on its own AsyncPoll again and again.
Task<int> bounce(AsyncPoll& mine, int rounds, bool serve_first) {
  int received = 0;
  std::uint32_t value = 0;
  if (serve_first && ::write(mine.fd(), &value, sizeof value) != sizeof value) {
    co_return -1;
  }
  while (received < rounds) {
    auto ready = co_await mine.readable();
    if (!ready) {
      co_return -1;
    }
    if (::read(mine.fd(), &value, sizeof value) != sizeof value) {
      continue;
    }
    ++received;
    ++value;
    if (::write(mine.fd(), &value, sizeof value) != sizeof value) {
      co_return -1;
    }
  }
  co_return static_cast<int>(value);
}

TEST_F(AsyncPollTest, PingPongBetweenTwoCoroutines) {
  SocketPair sp;
  auto left = AsyncPoll::create(loop, sp.a.get());
  auto right = AsyncPoll::create(loop, sp.b.get());
  ASSERT_TRUE(left && right);
  auto a = bounce(*left, 100, true);
  auto b = bounce(*right, 100, false);
  a.start();
  b.start();
  loop.run();
  ASSERT_TRUE(a.done() && b.done());
  EXPECT_EQ(b.result(), 199);  // b saw 0, 2, ..., 198 and answered each plus one
  EXPECT_EQ(a.result(), 200);
}

TEST_F(AsyncPollTest, ReadinessWithNobodyWaitingPausesInsteadOfSpinning) {
  SocketPair sp;
  auto poll = AsyncPoll::create(loop, sp.a.get());
  ASSERT_TRUE(poll);
  auto once = [](AsyncPoll& p) -> Task<> { co_await p.readable(); };
  auto first = once(*poll);
  first.start();
  ASSERT_EQ(::write(sp.b.get(), "xy", 2), 2);  // nobody consumes these bytes
  loop.run();                                  // returns: after the first wait the poll pauses itself
  EXPECT_TRUE(first.done());
  auto second = once(*poll);  // the next wait re-arms and sees the unread bytes at once
  second.start();
  loop.run();
  EXPECT_TRUE(second.done());
}

TEST_F(AsyncPollTest, SecondConcurrentWaitIsBusy) {
  SocketPair sp;
  auto poll = AsyncPoll::create(loop, sp.a.get());
  ASSERT_TRUE(poll);
  auto wait = [](AsyncPoll& p) -> Task<PollResult> { co_return co_await p.readable(); };
  auto first = wait(*poll);
  auto second = wait(*poll);
  first.start();
  second.start();
  ASSERT_TRUE(second.done());
  EXPECT_EQ(second.result().error(), std::errc::device_or_resource_busy);
  first.reset();  // cancel the pending one; the poll pauses at its next readiness
  ASSERT_EQ(::write(sp.b.get(), "x", 1), 1);
  loop.run();
}

}  // namespace
}  // namespace fg::loop
