#include "gateway/control/client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "gateway/control/server.hpp"
#include "loop/event_fd.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::gateway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Responder = ControlServer::Responder;

// The real server runs on this thread's loop; the blocking client runs on a thread of its own, the way
// the CLI process and the daemon meet.
class ControlClientTest : public test::LoopTest {
 protected:
  void start(ControlLimits limits = {}) {
    auto opened = ControlServer::open(
        loop, path_,
        [this](const json& request, Responder respond) {
          const auto& op = request["op"].get_ref<const std::string&>();
          if (op == "get") {
            respond({{"value", request.value("key", "") + "-value"}});
          } else if (op == "slow") {
            parked.push_back(respond);
          } else if (op == "fast") {
            for (auto& late : parked) {
              late({{"late", true}});  // reaches the client before this request's own answer
            }
            respond({{"fast", true}});
          } else if (op == "bye") {
            server->close();
          } else {
            respond.fail("unknown op");
          }
        },
        limits);
    ASSERT_TRUE(opened) << opened.error().message();
    server.emplace(std::move(*opened));
  }

  // Runs `client_side` on its own thread while the loop serves; returns when it has finished.
  void with_client(const std::function<void()>& client_side) {
    auto done = loop::EventFd::create(loop);
    ASSERT_TRUE(done);
    ASSERT_FALSE(done->start([this](std::uint64_t) { loop.stop(); }));
    std::thread thread([&] {
      client_side();
      EXPECT_FALSE(done->notify());
    });
    run_expecting_stop(20s);
    thread.join();
  }

  void TearDown() override {
    parked.clear();
    server.reset();
    LoopTest::TearDown();
  }

  test::TempDir dir_;
  std::string path_ = (dir_ / "control").string();
  std::optional<ControlServer> server;
  std::vector<Responder> parked;
};

TEST_F(ControlClientTest, RequestsGetTheirAnswers) {
  start();
  with_client([&] {
    auto client = ControlClient::connect(path_);
    ASSERT_TRUE(client) << client.error();
    auto first = client->request({{"op", "get"}, {"key", "t1"}}, 5s);
    ASSERT_TRUE(first) << first.error();
    EXPECT_EQ(*first, json({{"id", 1}, {"ok", true}, {"value", "t1-value"}}));
    auto own_id = client->request({{"id", "mine"}, {"op", "get"}, {"key", "t2"}}, 5s);
    ASSERT_TRUE(own_id) << own_id.error();
    EXPECT_EQ((*own_id)["id"], "mine");
    EXPECT_EQ((*own_id)["value"], "t2-value");
    auto failed = client->request({{"op", "nonsense"}}, 5s);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error(), "unknown op");
  });
}

TEST_F(ControlClientTest, NoDaemonIsAClearError) {
  auto missing = ControlClient::connect(path_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            "cannot connect to " + path_ + ": No such file or directory - is fieldgate running?");

  // A socket file left by a daemon that crashed: nobody listens.
  loop::UniqueFd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(stale.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  stale.reset();
  auto refused = ControlClient::connect(path_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "cannot connect to " + path_ + ": Connection refused - is fieldgate running?");
}

TEST_F(ControlClientTest, ATimedOutRequestsLateAnswerIsSkipped) {
  start();
  with_client([&] {
    auto client = ControlClient::connect(path_);
    ASSERT_TRUE(client) << client.error();
    auto slow = client->request({{"op", "slow"}}, 50ms);
    ASSERT_FALSE(slow);
    EXPECT_EQ(slow.error(), "no answer from fieldgate within 50 ms");
    auto fast = client->request({{"op", "fast"}}, 5s);
    ASSERT_TRUE(fast) << fast.error();
    EXPECT_EQ(*fast, json({{"id", 2}, {"ok", true}, {"fast", true}}));
  });
  EXPECT_EQ(parked.size(), 1u);
}

TEST_F(ControlClientTest, TheDaemonClosingTheConnectionIsAnError) {
  start();
  with_client([&] {
    auto client = ControlClient::connect(path_);
    ASSERT_TRUE(client) << client.error();
    auto bye = client->request({{"op", "bye"}}, 5s);
    ASSERT_FALSE(bye);
    EXPECT_EQ(bye.error(), "fieldgate closed the connection at " + path_);
    auto after = client->request({{"op", "get"}}, 5s);
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error(), "not connected to fieldgate at " + path_);
  });
}

TEST_F(ControlClientTest, ARequestWithoutOpIsRefusedBeforeSending) {
  start();
  with_client([&] {
    auto client = ControlClient::connect(path_);
    ASSERT_TRUE(client) << client.error();
    for (const json& bad : {json::array(), json({{"key", 1}}), json({{"op", 3}})}) {
      auto result = client->request(bad, 5s);
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error(), "a request needs a string \"op\"");
    }
    auto good = client->request({{"op", "get"}}, 5s);
    ASSERT_TRUE(good) << good.error();
    EXPECT_EQ((*good)["id"], 1);  // nothing was sent for the refused ones
  });
}

TEST_F(ControlClientTest, AClientOverTheConnectionLimitIsTold) {
  start(ControlLimits{.max_connections = 1});
  with_client([&] {
    auto first = ControlClient::connect(path_);
    ASSERT_TRUE(first) << first.error();
    ASSERT_TRUE(first->request({{"op", "get"}}, 5s));  // admitted before the second one connects
    auto second = ControlClient::connect(path_);
    ASSERT_TRUE(second) << second.error();
    auto refused = second->request({{"op", "get"}}, 5s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), "too many connections (at most 1)");
  });
}

}  // namespace
}  // namespace fg::gateway
