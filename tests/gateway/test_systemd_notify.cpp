// SystemdNotify speaks systemd's notify protocol itself (no libsystemd). A unix datagram socket of the
// test plays the service manager: bound to a path or to an abstract name, with SO_PASSCRED on as systemd
// has it, so the test also sees that the kernel vouches for the sender's pid.

#include "gateway/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "loop/poll.hpp"
#include "loop/unique_fd.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::gateway {
namespace {

using namespace std::chrono_literals;

struct Received {
  std::string message;
  pid_t sender = 0;
};

// The service manager's end: a datagram socket that records each message and its sender's pid.
class ManagerSocket {
 public:
  // `name` is a path, or starts with '@' for the abstract namespace (bound with its exact length).
  explicit ManagerSocket(const std::string& name) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    int on = 1;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    bool abstract = name.starts_with('@');
    if (abstract) {
      addr.sun_path[0] = '\0';
    }
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    bound_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), length) == 0;
  }

  bool bound() const { return bound_; }
  int fd() const { return fd_.get(); }

  // The next waiting datagram, if any (the socket does not block).
  std::optional<Received> receive() {
    char data[512];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_.get(), &msg, 0);
    if (n < 0) {
      return std::nullopt;
    }
    Received r{std::string(data, static_cast<size_t>(n)), 0};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        r.sender = cred.pid;
      }
    }
    return r;
  }

  std::vector<std::string> receive_all() {
    std::vector<std::string> messages;
    while (auto r = receive()) {
      messages.push_back(r->message);
    }
    return messages;
  }

 private:
  loop::UniqueFd fd_;
  bool bound_ = false;
};

// Every test starts outside systemd and leaves no systemd variable behind.
class SystemdNotifyTest : public test::LoopTest {
 protected:
  void SetUp() override { clear_environment(); }
  void TearDown() override {
    clear_environment();
    test::LoopTest::TearDown();
  }
  static void clear_environment() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }

  test::TempDir dir;
};

TEST_F(SystemdNotifyTest, WithoutNotifySocketNothingIsSentAndNothingFails) {
  auto sent = sd_notify_message("READY=1");
  ASSERT_TRUE(sent.has_value()) << sent.error().message();
  EXPECT_FALSE(*sent);

  SystemdNotify notify(loop);
  EXPECT_FALSE(notify.watchdog_enabled());
  notify.ready();
  notify.status("0/0 ports open");
  notify.stopping();
  notify.close();
}

TEST_F(SystemdNotifyTest, SendsToAPathSocketWithTheSendersCredentials) {
  ManagerSocket manager((dir / "notify").string());
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", (dir / "notify").c_str(), 1);

  auto sent = sd_notify_message("READY=1\nSTATUS=serving");
  ASSERT_TRUE(sent.has_value()) << sent.error().message();
  EXPECT_TRUE(*sent);
  auto got = manager.receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->message, "READY=1\nSTATUS=serving");
  EXPECT_EQ(got->sender, ::getpid()) << "systemd attributes a message to a unit by the sender's pid";
}

TEST_F(SystemdNotifyTest, SendsToAnAbstractSocketNamedWithAnAt) {
  // systemd's own notify socket is a path, but a service manager (or systemd-run in a container) may
  // hand out an abstract name; it must be addressed with exactly its length.
  std::string name = "@fieldgate-test-notify-" + std::to_string(::getpid());
  ManagerSocket manager(name);
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);

  auto sent = sd_notify_message("READY=1");
  ASSERT_TRUE(sent.has_value()) << sent.error().message();
  EXPECT_TRUE(*sent);
  auto got = manager.receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->message, "READY=1");
}

TEST_F(SystemdNotifyTest, RejectsAddressesThatAreNeitherAbsolutePathsNorAbstractNames) {
  for (const std::string& bad :
       std::vector<std::string>{"", "relative/notify", "@", "/", "/" + std::string(200, 'x')}) {
    ::setenv("NOTIFY_SOCKET", bad.c_str(), 1);
    auto sent = sd_notify_message("READY=1");
    ASSERT_FALSE(sent.has_value()) << "NOTIFY_SOCKET=" << bad;
    EXPECT_EQ(sent.error(), std::errc::invalid_argument) << "NOTIFY_SOCKET=" << bad;
  }
}

TEST_F(SystemdNotifyTest, ReportsWhenNoOneListens) {
  ::setenv("NOTIFY_SOCKET", (dir / "nobody").c_str(), 1);
  auto sent = sd_notify_message("READY=1");
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error(), std::errc::no_such_file_or_directory);
}

TEST_F(SystemdNotifyTest, SendsReadyEachNewStatusOnceAndStopping) {
  ManagerSocket manager((dir / "notify").string());
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", (dir / "notify").c_str(), 1);

  SystemdNotify notify(loop);
  EXPECT_FALSE(notify.watchdog_enabled()) << "no WATCHDOG_USEC, no watchdog";
  notify.ready();
  notify.status("1/8 ports open");
  notify.status("1/8 ports open");
  notify.status("8/8 ports open");
  notify.stopping();
  notify.close();
  EXPECT_EQ(manager.receive_all(), (std::vector<std::string>{"READY=1", "STATUS=1/8 ports open",
                                                             "STATUS=8/8 ports open", "STOPPING=1"}));
}

TEST_F(SystemdNotifyTest, WatchdogIntervalFollowsWatchdogUsecAndPid) {
  EXPECT_EQ(sd_watchdog_interval(), std::nullopt) << "unset";
  ::setenv("WATCHDOG_USEC", "200000", 1);
  EXPECT_EQ(sd_watchdog_interval(), std::chrono::microseconds(200000));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(sd_watchdog_interval(), std::chrono::microseconds(200000)) << "meant for this process";
  ::setenv("WATCHDOG_PID", std::to_string(::getppid()).c_str(), 1);
  EXPECT_EQ(sd_watchdog_interval(), std::nullopt) << "meant for another process";
  ::setenv("WATCHDOG_PID", "12ab", 1);
  EXPECT_EQ(sd_watchdog_interval(), std::nullopt) << "not a pid";
  ::unsetenv("WATCHDOG_PID");
  for (const char* bad : {"", "0", "-5", "20s", "0x10", "18446744073709551615", "99999999999999999999"}) {
    ::setenv("WATCHDOG_USEC", bad, 1);
    EXPECT_EQ(sd_watchdog_interval(), std::nullopt) << "WATCHDOG_USEC=" << bad;
  }
}

TEST_F(SystemdNotifyTest, WatchdogPingsComeFromTheLoop) {
  ManagerSocket manager((dir / "notify").string());
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", (dir / "notify").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "20000", 1);  // a ping every 10 ms

  SystemdNotify notify(loop);
  ASSERT_TRUE(notify.watchdog_enabled());
  auto poll = loop::Poll::create(loop, manager.fd());
  ASSERT_TRUE(poll) << poll.error().message();
  int pings = 0;
  std::vector<std::string> others;
  poll->start(loop::PollEvents::readable, [&](std::error_code ec, loop::PollEvents) {
    ASSERT_FALSE(ec) << ec.message();
    while (auto r = manager.receive()) {
      if (r->message == "WATCHDOG=1") {
        ++pings;
      } else {
        others.push_back(r->message);
      }
    }
    if (pings >= 3) {
      notify.close();
      poll->close();
      loop.stop();
    }
  });
  run_expecting_stop();
  EXPECT_GE(pings, 3);
  EXPECT_TRUE(others.empty()) << testing::PrintToString(others);
}

}  // namespace
}  // namespace fg::gateway
