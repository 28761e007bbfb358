#include "loop/task.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "loop/await.hpp"
#include "loop/timer.hpp"
#include "loop/unique_fd.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using namespace std::chrono_literals;
using TaskTest = test::LoopTest;

Task<int> answer_later(Loop& loop) {
  co_await sleep_for(loop, 2ms);
  co_return 42;
}

Task<std::string> ask(Loop& loop) {
  int a = co_await answer_later(loop);
  int b = co_await answer_later(loop);
  co_return std::to_string(a + b);
}

TEST_F(TaskTest, SleepsAndReturnsThroughNestedAwaits) {
  auto task = ask(loop);
  EXPECT_FALSE(task.done());  // lazy: nothing ran yet
  task.start();
  EXPECT_FALSE(task.done());  // waiting on a timer
  loop.run();
  ASSERT_TRUE(task.done());
  EXPECT_EQ(task.result(), "84");
}

TEST_F(TaskTest, AwaitsIoWithoutBlocking) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd reader(fds[0]), writer(fds[1]);
  auto consume = [](Loop& loop, int fd) -> Task<std::string> {
    auto ready = co_await readable(loop, fd);
    if (!ready) {
      co_return "error";
    }
    char buf[16];
    ssize_t n = ::read(fd, buf, sizeof buf);
    co_return std::string(buf, static_cast<size_t>(n > 0 ? n : 0));
  };
  auto task = consume(loop, reader.get());
  task.start();
  Timer producer(loop);  // writes only after the task is already waiting
  producer.start(2ms, [&] { ASSERT_EQ(::write(writer.get(), "12.5", 4), 4); });
  loop.run();
  ASSERT_TRUE(task.done());
  EXPECT_EQ(task.result(), "12.5");
}

TEST_F(TaskTest, DestroyingAWaitingTaskCancelsItsWait) {
  bool resumed = false;
  auto sleeper = [](Loop& loop, bool& resumed) -> Task<> {
    co_await sleep_for(loop, 1h);
    resumed = true;
  };
  auto task = sleeper(loop, resumed);
  task.start();
  Timer canceller(loop);
  canceller.start(2ms, [&] { task.reset(); });
  // Returns only if the hour-long timer was closed by the cancellation: otherwise it keeps the loop alive.
  EXPECT_FALSE(loop.run_for(10s));
  EXPECT_FALSE(resumed);
}

TEST_F(TaskTest, CancellingANestedWaitReleasesEveryLevel) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd reader(fds[0]), writer(fds[1]);
  auto inner = [](Loop& loop, int fd) -> Task<bool> {
    co_return static_cast<bool>(co_await readable(loop, fd));
  };
  auto outer = [&inner](Loop& loop, int fd) -> Task<bool> { co_return co_await inner(loop, fd); };
  auto task = outer(loop, reader.get());
  task.start();
  Timer canceller(loop);
  canceller.start(2ms, [&] { task.reset(); });
  EXPECT_FALSE(loop.run_for(10s));  // the inner Poll is closed, or the loop would run until the limit
  // A new wait on the same descriptor works: the cancelled one left nothing registered with libuv.
  auto again = inner(loop, reader.get());
  again.start();
  ASSERT_EQ(::write(writer.get(), "x", 1), 1);
  loop.run();
  ASSERT_TRUE(again.done());
  EXPECT_TRUE(again.result());
}

TEST_F(TaskTest, ExceptionReachesTheAwaiter) {
  auto thrower = [](Loop& loop) -> Task<int> {
    co_await sleep_for(loop, 1ms);
    throw std::runtime_error("sensor on fire");
  };
  auto catcher = [&thrower](Loop& loop) -> Task<std::string> {
    try {
      co_await thrower(loop);
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "not thrown";
  };
  auto task = catcher(loop);
  task.start();
  loop.run();
  EXPECT_EQ(task.result(), "sensor on fire");
}

TEST_F(TaskTest, ExceptionReachesResultOfATopLevelTask) {
  auto thrower = [](Loop& loop) -> Task<> {
    co_await sleep_for(loop, 1ms);
    throw std::logic_error("bad wiring");
  };
  auto task = thrower(loop);
  task.start();
  loop.run();
  ASSERT_TRUE(task.done());
  EXPECT_THROW(task.result(), std::logic_error);
}

TEST_F(TaskTest, ErrorValueReachesTheAwaiter) {
  char path[] = "/tmp/fg-task-XXXXXX";
  UniqueFd file(::mkstemp(path));
  ::unlink(path);
  auto waiter = [](Loop& loop, int fd) -> Task<std::error_code> {
    auto ready = co_await readable(loop, fd);  // epoll cannot watch a regular file
    co_return ready ? std::error_code() : ready.error();
  };
  auto task = waiter(loop, file.get());
  task.start();
  ASSERT_TRUE(task.done());  // resolved synchronously, without suspending
  EXPECT_EQ(task.result(), std::errc::operation_not_permitted);
}

TEST_F(TaskTest, FromCallbackAdaptsACallbackApi) {
  // A callback-style API: "measure, then call back with the reading".
  auto measure = [this](std::function<void(double)> done) {
    auto timer = std::make_unique<Timer>(loop);
    timer->start(1ms, [done] { done(21.5); });
    return timer;  // returned, it is kept alive by the awaiter and its destruction cancels
  };
  auto reader = [&measure]() -> Task<double> {
    co_return co_await from_callback<double>([&](Resolve<double> resolve) { return measure(resolve); });
  };
  auto task = reader();
  task.start();
  loop.run();
  EXPECT_EQ(task.result(), 21.5);
}

TEST_F(TaskTest, LateCallbackAfterCancellationIsHarmless) {
  std::function<void(int)> late;  // an operation that cannot be cancelled keeps its callback
  auto waiter = [&late]() -> Task<int> {
    co_return co_await from_callback<int>([&late](Resolve<int> resolve) { late = resolve; });
  };
  auto task = waiter();
  task.start();
  EXPECT_FALSE(task.done());
  task.reset();  // cancelled while waiting
  late(7);       // must not resume the destroyed coroutine (ASan would see it)
  SUCCEED();
}

Task<int> immediately(int value) {
  co_return value;
}

// 64 bits on every target: the sum below is about 5e11, which a 32-bit long (armhf) cannot hold.
Task<std::int64_t> sum_of_immediate_results(int n) {
  std::int64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += co_await immediately(i);
  }
  co_return sum;
}

// A million awaits that never wait: if each one nested a stack frame, this would overflow the stack.
TEST_F(TaskTest, LoopOfSynchronousAwaitsKeepsTheStackFlat) {
  constexpr int kAwaits = 1'000'000;
  auto task = sum_of_immediate_results(kAwaits);
  task.start();
  ASSERT_TRUE(task.done());
  EXPECT_EQ(task.result(), std::int64_t{kAwaits} * (kAwaits - 1) / 2);
}

TEST_F(TaskTest, AwaitingAFinishedTaskReturnsItsValue) {
  auto inner = immediately(5);
  inner.start();
  ASSERT_TRUE(inner.done());
  auto outer = [](Task<int>& t) -> Task<int> { co_return co_await t; };
  auto task = outer(inner);
  task.start();
  EXPECT_EQ(task.result(), 5);
}

}  // namespace
}  // namespace fg::loop
