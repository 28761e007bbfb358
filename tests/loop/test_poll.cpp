#include "loop/poll.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "loop/timer.hpp"
#include "loop/unique_fd.hpp"
#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using namespace std::chrono_literals;
using PollTest = test::LoopTest;

struct Pair {
  UniqueFd a, b;
};

Pair make_pty() {
  int master = -1, slave = -1;
  EXPECT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  termios raw{};
  ::tcgetattr(slave, &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave, TCSANOW, &raw);
  return {UniqueFd(master), UniqueFd(slave)};
}

Pair make_pipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Pair make_socketpair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string read_some(int fd) {
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

TEST_F(PollTest, PtyBytesFromTheDeviceSideAreReadable) {
  auto pty = make_pty();
  auto poll = Poll::create(loop, pty.a.get());
  ASSERT_TRUE(poll);
  std::string got;
  poll->start(PollEvents::readable, [&](std::error_code ec, PollEvents ev) {
    ASSERT_FALSE(ec);
    ASSERT_TRUE(has(ev, PollEvents::readable));
    got += read_some(pty.a.get());
    if (got.size() >= 9) {
      poll->stop();
      loop.stop();
    }
  });
  ASSERT_EQ(::write(pty.b.get(), "t=21.5\r\n!", 9), 9);
  run_expecting_stop();
  EXPECT_EQ(got, "t=21.5\r\n!");
}

TEST_F(PollTest, PipeWritableThenReadableThenEndOfStream) {
  auto pipe = make_pipe();
  auto reader = Poll::create(loop, pipe.a.get());
  auto writer = Poll::create(loop, pipe.b.get());
  ASSERT_TRUE(reader && writer);
  std::string got;
  bool saw_eof = false;
  writer->start(PollEvents::writable, [&](std::error_code, PollEvents ev) {
    ASSERT_TRUE(has(ev, PollEvents::writable));
    ASSERT_EQ(::write(pipe.b.get(), "ping", 4), 4);
    writer->detach();
    pipe.b.reset();  // the reader must see end of stream next
  });
  reader->start(PollEvents::readable, [&](std::error_code, PollEvents) {
    char buf[16];
    ssize_t n = ::read(pipe.a.get(), buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      saw_eof = true;
      reader->stop();
    }
  });
  loop.run();
  EXPECT_EQ(got, "ping");
  EXPECT_TRUE(saw_eof);
}

TEST_F(PollTest, SocketPeerShutdownIsReportedAsDisconnect) {
  auto sp = make_socketpair();
  auto poll = Poll::create(loop, sp.a.get());
  ASSERT_TRUE(poll);
  PollEvents seen = PollEvents::none;
  poll->start(PollEvents::readable | PollEvents::disconnect, [&](std::error_code, PollEvents ev) {
    seen = ev;
    poll->stop();
  });
  ::shutdown(sp.b.get(), SHUT_WR);
  loop.run();
  EXPECT_TRUE(has(seen, PollEvents::disconnect));
}

TEST_F(PollTest, EventMaskChangesWhileRunning) {
  auto sp = make_socketpair();
  auto poll = Poll::create(loop, sp.a.get());
  ASSERT_TRUE(poll);
  std::vector<PollEvents> seen;
  poll->start(PollEvents::readable, [&](std::error_code, PollEvents ev) {
    seen.push_back(ev);
    if (seen.size() == 1) {
      read_some(sp.a.get());
      EXPECT_FALSE(poll->set_events(PollEvents::writable));  // same callback, new mask
      EXPECT_EQ(poll->events(), PollEvents::writable);
    } else {
      poll->stop();
    }
  });
  ASSERT_EQ(::write(sp.b.get(), "x", 1), 1);
  loop.run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(has(seen[0], PollEvents::readable));
  EXPECT_TRUE(has(seen[1], PollEvents::writable));
  EXPECT_FALSE(has(seen[1], PollEvents::readable));
}

TEST_F(PollTest, PriorityFromPtyPacketMode) {
  auto pty = make_pty();
  int on = 1;
  ASSERT_EQ(::ioctl(pty.a.get(), TIOCPKT, &on), 0);
  auto poll = Poll::create(loop, pty.a.get());
  ASSERT_TRUE(poll);
  unsigned char status = 0;
  poll->start(PollEvents::priority, [&](std::error_code ec, PollEvents ev) {
    ASSERT_FALSE(ec);
    ASSERT_TRUE(has(ev, PollEvents::priority));
    ASSERT_EQ(::read(pty.a.get(), &status, 1), 1);  // packet mode: the status byte, consuming the event
    poll->stop();
  });
  ASSERT_EQ(::tcflush(pty.b.get(), TCIOFLUSH), 0);  // the device side flushes: a packet-mode status change
  loop.run();
  EXPECT_NE(status & (TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE), 0) << int(status);
}

TEST_F(PollTest, PriorityFromOutOfBandByte) {
  auto sp = make_socketpair();
  if (::send(sp.b.get(), "!", 1, MSG_OOB) != 1) {
    GTEST_SKIP() << "this kernel has no AF_UNIX MSG_OOB: " << std::strerror(errno);
  }
  auto poll = Poll::create(loop, sp.a.get());
  ASSERT_TRUE(poll);
  char urgent = 0;
  poll->start(PollEvents::priority, [&](std::error_code, PollEvents ev) {
    ASSERT_TRUE(has(ev, PollEvents::priority));
    ASSERT_EQ(::recv(sp.a.get(), &urgent, 1, MSG_OOB), 1);  // unread, it would fire again and again
    poll->stop();
  });
  loop.run();
  EXPECT_EQ(urgent, '!');
}

TEST_F(PollTest, StoppedPollDeliversNothing) {
  auto sp = make_socketpair();
  auto poll = Poll::create(loop, sp.a.get());
  ASSERT_TRUE(poll);
  int calls = 0;
  poll->start(PollEvents::readable, [&](std::error_code, PollEvents) { ++calls; });
  poll->stop();
  ASSERT_EQ(::write(sp.b.get(), "x", 1), 1);
  Timer settle(loop);
  settle.start(20ms, [] {});
  loop.run();
  EXPECT_EQ(calls, 0);
}

TEST_F(PollTest, DetachLeavesTheDescriptorOpenAndReusable) {
  auto sp = make_socketpair();
  auto first = Poll::create(loop, sp.a.get());
  ASSERT_TRUE(first);
  first->start(PollEvents::readable, [](std::error_code, PollEvents) { FAIL() << "detached poll fired"; });
  first->detach();
  EXPECT_FALSE(first->is_open());
  EXPECT_NE(::fcntl(sp.a.get(), F_GETFD), -1) << "detach closed the descriptor";
  // libuv refuses a second Poll on a descriptor it still watches; after detach a new one must work.
  auto second = Poll::create(loop, sp.a.get());
  ASSERT_TRUE(second) << second.error().message();
  bool fired = false;
  second->start(PollEvents::readable, [&](std::error_code, PollEvents) {
    fired = true;
    second->stop();
  });
  ASSERT_EQ(::write(sp.b.get(), "x", 1), 1);
  loop.run();
  EXPECT_TRUE(fired);
}

TEST_F(PollTest, RegularFileIsAnErrorValue) {
  char path[] = "/tmp/fg-poll-XXXXXX";
  UniqueFd file(::mkstemp(path));
  ::unlink(path);
  auto poll = Poll::create(loop, file.get());
  ASSERT_FALSE(poll);
  EXPECT_EQ(poll.error(), std::errc::operation_not_permitted);
}

}  // namespace
}  // namespace fg::loop
