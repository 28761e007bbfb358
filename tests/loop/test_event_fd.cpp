#include "loop/event_fd.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using EventFdTest = test::LoopTest;

TEST_F(EventFdTest, NotificationsCoalesceIntoOneCount) {
  auto event = EventFd::create(loop);
  ASSERT_TRUE(event);
  std::vector<std::uint64_t> counts;
  event->start([&](std::uint64_t n) {
    counts.push_back(n);
    event->stop();
  });
  ASSERT_FALSE(event->notify());
  ASSERT_FALSE(event->notify(2));
  ASSERT_FALSE(event->notify());
  loop.run();
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{4}));
}

TEST_F(EventFdTest, AnotherThreadWakesTheLoop) {
  auto event = EventFd::create(loop);
  ASSERT_TRUE(event);
  std::uint64_t got = 0;
  event->start([&](std::uint64_t n) {
    got = n;
    event->stop();
  });
  std::thread notifier([&] { EXPECT_FALSE(event->notify(7)); });
  loop.run();  // blocks in epoll until the other thread writes
  notifier.join();
  EXPECT_EQ(got, 7u);
}

TEST_F(EventFdTest, StoppedCounterKeepsItsValueForLater) {
  auto event = EventFd::create(loop);
  ASSERT_TRUE(event);
  ASSERT_FALSE(event->notify(5));
  loop.run_once_nowait();  // not started: nothing read
  std::uint64_t got = 0;
  event->start([&](std::uint64_t n) {
    got = n;
    event->stop();
  });
  loop.run();
  EXPECT_EQ(got, 5u);
}

}  // namespace
}  // namespace fg::loop
