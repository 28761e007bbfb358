// fieldgate speaks systemd's notify protocol: READY=1 once it serves, STATUS= with its one-line summary,
// WATCHDOG=1 from the loop at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM. A unix datagram socket of
// the test plays the service manager.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "loop/unique_fd.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::e2e {
namespace {

using namespace std::chrono_literals;

class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    bound_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool bound() const { return bound_; }

  // Collects messages until `done` says so or `limit` passes; returns whether `done` was satisfied.
  template <typename Done>
  bool collect_until(Done done, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done(messages)) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) {
        return false;
      }
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) == 1) {
        char buf[1024];
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n > 0) {
          messages.emplace_back(buf, static_cast<size_t>(n));
        }
      }
    }
    return true;
  }

  std::vector<std::string> messages;

 private:
  std::filesystem::path path_;
  loop::UniqueFd fd_;
  bool bound_ = false;
};

int count(const std::vector<std::string>& messages, const std::string& prefix) {
  int n = 0;
  for (const auto& m : messages) {
    n += m.starts_with(prefix) ? 1 : 0;
  }
  return n;
}

// A broker, a notify socket playing systemd, and fieldgate started with a config of no devices, told about
// the socket (and given `env`).
struct ServiceManaged {
  test::TempDir dir;
  test::MosquittoBroker broker;
  NotifySocket systemd{dir / "notify"};
  test::ChildProcess gateway;

  void start(const std::vector<std::string>& env) {
    ASSERT_TRUE(broker.start()) << broker.last_error();
    ASSERT_TRUE(systemd.bound());
    std::ofstream(dir / "fieldgate.toml")
        << "[gateway]\nid = \"sd\"\nstate_dir = \"" << (dir / "state").string() << "\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = " << broker.port() << "\n";
    gateway.add_env("NOTIFY_SOCKET=" + (dir / "notify").string());
    for (const auto& assignment : env) {
      gateway.add_env(assignment);
    }
    ASSERT_TRUE(gateway.spawn({FIELDGATE_BINARY, "run", "--config", (dir / "fieldgate.toml").string()},
                              dir / "gateway.log"));
  }
};

TEST(E2eSystemd, NotifiesReadyStatusWatchdogAndStopping) {
  ServiceManaged managed;
  ASSERT_NO_FATAL_FAILURE(managed.start({"WATCHDOG_USEC=200000"}));  // pings expected every 100 ms
  auto& systemd = managed.systemd;
  auto& gateway = managed.gateway;

  bool serving = systemd.collect_until(
      [](const auto& m) {
        return count(m, "READY=1") == 1 && count(m, "STATUS=0/0 ports open, broker connected") >= 1 &&
               count(m, "WATCHDOG=1") >= 3;
      },
      10s);
  ASSERT_TRUE(serving) << "got: " << testing::PrintToString(systemd.messages);
  EXPECT_EQ(systemd.messages.front(), "READY=1")
      << "READY=1 comes once the loop serves, before anything else";

  gateway.signal(SIGTERM);
  EXPECT_TRUE(systemd.collect_until([](const auto& m) { return count(m, "STOPPING=1") == 1; }, 10s));
  ASSERT_TRUE(gateway.wait_exit(10s));
  ASSERT_TRUE(gateway.status());
  EXPECT_TRUE(WIFEXITED(*gateway.status()) && WEXITSTATUS(*gateway.status()) == 0)
      << test::ChildProcess::describe(gateway.status());
}

// A reload (SIGHUP, as systemd's ExecReload sends it) is bracketed by RELOADING=1 with the time, which
// systemd 253's Type=notify-reload requires, and READY=1 when it is over, applied or refused.
TEST(E2eSystemd, ReloadIsBracketedByReloadingAndReady) {
  ServiceManaged managed;
  ASSERT_NO_FATAL_FAILURE(managed.start({}));
  auto& systemd = managed.systemd;
  auto& gateway = managed.gateway;
  const auto& dir = managed.dir;
  ASSERT_TRUE(systemd.collect_until([](const auto& m) { return count(m, "READY=1") == 1; }, 10s));
  for (const char* extra : {"", "bogus = 1\n"}) {
    std::ofstream(dir / "fieldgate.toml", std::ios::app) << extra;
    const std::size_t mark = systemd.messages.size();
    gateway.signal(SIGHUP);
    ASSERT_TRUE(systemd.collect_until(
        [&](const auto& m) { return count({m.begin() + mark, m.end()}, "READY=1") == 1; }, 10s))
        << "got: " << testing::PrintToString(systemd.messages);
    const std::vector<std::string> reload(systemd.messages.begin() + mark, systemd.messages.end());
    EXPECT_EQ(count(reload, "RELOADING=1\nMONOTONIC_USEC="), 1) << testing::PrintToString(reload);
    auto reloading = std::find_if(reload.begin(), reload.end(),
                                  [](const std::string& m) { return m.starts_with("RELOADING=1\n"); });
    EXPECT_LT(reloading - reload.begin(), std::find(reload.begin(), reload.end(), "READY=1") - reload.begin())
        << "RELOADING=1 comes before READY=1: " << testing::PrintToString(reload);
  }
  gateway.signal(SIGTERM);
  ASSERT_TRUE(gateway.wait_exit(10s));
  EXPECT_TRUE(WIFEXITED(*gateway.status()) && WEXITSTATUS(*gateway.status()) == 0)
      << test::ChildProcess::describe(gateway.status());
}

}  // namespace
}  // namespace fg::e2e
