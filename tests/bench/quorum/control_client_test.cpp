// The control socket client against a real unix socket served by a small stand-in for the daemon's side
// of the protocol (the daemon itself is being written): framing, id matching, errors.

#include "tests/bench/quorum/control_client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace fg::test::bench {
namespace {

// Serves one connection on a unix socket: a put stores, a get returns the value or ok:false. With
// `stale_first`, every reply is preceded by a reply to a request id that was never sent; with
// `hang_up`, it closes the connection at the first request without answering. Replies go out in pieces.
class StandInDaemon {
 public:
  StandInDaemon(std::filesystem::path path, bool stale_first = false, bool hang_up = false)
      : path_(std::move(path)), stale_first_(stale_first), hang_up_(hang_up) {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    bound_ = ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
             ::listen(listener_, 1) == 0;
    thread_ = std::thread([this] { serve(); });
  }
  ~StandInDaemon() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  bool bound() const { return bound_; }

 private:
  void serve() {
    int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    std::string buffer;
    char chunk[256];
    for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;) {
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (auto end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n')) {
        auto request = nlohmann::json::parse(buffer.substr(0, end));
        buffer.erase(0, end + 1);
        if (hang_up_) {
          ::close(fd);
          return;
        }
        send(fd, answer(request));
      }
    }
    ::close(fd);
  }

  std::string answer(const nlohmann::json& request) {
    nlohmann::json reply = {{"id", request["id"]}, {"ok", true}};
    std::string key = request["key"];
    if (request["op"] == "put") {
      store_[key] = request["value"];
    } else if (auto found = store_.find(key); found != store_.end()) {
      reply["value"] = found->second;
    } else {
      reply = {{"id", request["id"]}, {"ok", false}, {"error", "no value for " + key}};
    }
    std::string text;
    if (stale_first_) {
      text += nlohmann::json({{"id", 999999}, {"ok", false}, {"error", "stale"}}).dump() + "\n";
    }
    return text + reply.dump() + "\n";
  }

  // In two writes, so the client must put a line together from pieces.
  static void send(int fd, const std::string& text) {
    std::size_t half = text.size() / 2;
    ASSERT_EQ(::write(fd, text.data(), half), static_cast<ssize_t>(half));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(::write(fd, text.data() + half, text.size() - half), static_cast<ssize_t>(text.size() - half));
  }

  std::filesystem::path path_;
  bool stale_first_;
  bool hang_up_;
  int listener_ = -1;
  bool bound_ = false;
  std::map<std::string, std::string> store_;
  std::thread thread_;
};

TEST(ControlClient, PutThenGetReturnsTheValue) {
  TempDir dir;
  StandInDaemon daemon(dir / "control.sock");
  ASSERT_TRUE(daemon.bound());
  ControlClient client(dir / "control.sock");
  ASSERT_TRUE(client.connect().has_value());

  auto put = client.put("bench/k01", "v1");
  EXPECT_TRUE(put.has_value()) << put.error();
  EXPECT_TRUE(client.get("bench/k01").has_value());
  auto reply = client.call({{"op", "get"}, {"key", "bench/k01"}});
  ASSERT_TRUE(reply.has_value()) << reply.error();
  EXPECT_EQ((*reply)["value"], "v1");
  EXPECT_EQ((*reply)["id"], 3) << "ids count up from 1 per connection";
}

TEST(ControlClient, AReplyIsMatchedByItsId) {
  TempDir dir;
  StandInDaemon daemon(dir / "control.sock", /*stale_first=*/true);
  ASSERT_TRUE(daemon.bound());
  ControlClient client(dir / "control.sock");

  auto put = client.put("bench/k02", "v2");
  EXPECT_TRUE(put.has_value()) << put.error() << ": the stale reply was taken for the answer";
  auto get = client.get("bench/k02");
  EXPECT_TRUE(get.has_value()) << get.error();
}

TEST(ControlClient, APipelineCountsTheOkRepliesToItsOwnIds) {
  TempDir dir;
  StandInDaemon daemon(dir / "control.sock", /*stale_first=*/true);
  ASSERT_TRUE(daemon.bound());
  ControlClient client(dir / "control.sock");
  ASSERT_TRUE(client.put("bench/k03", "v3").has_value());

  auto ok = client.pipeline({{{"op", "get"}, {"key", "bench/k03"}},
                             {{"op", "get"}, {"key", "bench/missing"}},
                             {{"op", "get"}, {"key", "bench/k03"}}});
  ASSERT_TRUE(ok.has_value()) << ok.error();
  EXPECT_EQ(*ok, 2u) << "two gets of a stored key; the stale replies are not counted";
  auto reply = client.call({{"op", "get"}, {"key", "bench/k03"}});
  ASSERT_TRUE(reply.has_value()) << reply.error();
  EXPECT_EQ((*reply)["id"], 5) << "the pipeline took ids 2 to 4";
}

TEST(ControlClient, AnErrorReplyBecomesTheError) {
  TempDir dir;
  StandInDaemon daemon(dir / "control.sock");
  ASSERT_TRUE(daemon.bound());
  ControlClient client(dir / "control.sock");

  auto get = client.get("bench/missing");
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error(), "fieldgate: no value for bench/missing");
}

TEST(ControlClient, AClosedConnectionIsAnError) {
  TempDir dir;
  StandInDaemon daemon(dir / "control.sock", false, /*hang_up=*/true);
  ASSERT_TRUE(daemon.bound());
  ControlClient client(dir / "control.sock");

  auto put = client.put("bench/k03", "v3");
  ASSERT_FALSE(put.has_value());
  EXPECT_NE(put.error().find("closed the connection"), std::string::npos) << put.error();
}

TEST(ControlClient, NoSocketIsAConnectError) {
  TempDir dir;
  ControlClient client(dir / "absent.sock");
  auto connected = client.connect();
  ASSERT_FALSE(connected.has_value());
  EXPECT_NE(connected.error().find("absent.sock"), std::string::npos) << connected.error();
}

}  // namespace
}  // namespace fg::test::bench
