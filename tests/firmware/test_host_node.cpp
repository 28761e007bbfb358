// End to end with the Linux build of the firmware (fieldgate-node on a pty), the real fieldgate and a real
// broker: the node the demo runs. The AVR build has the same tests in simavr (test_simavr.cpp).

#include <filesystem>
#include <thread>

#include "firmware/core/node.h"
#include "tests/firmware/node_e2e.hpp"

namespace fg::firmware::test {
namespace {

class FirmwareHostNode : public NodeE2eTest {
 protected:
  void SetUp() override {
    NodeE2eTest::SetUp();
    std::string error;
    ASSERT_TRUE(node_.spawn({FIELDGATE_NODE_BINARY, "--link", device_path(kNode), "--interval-ms", "100"},
                            dir() / "node.log", &error))
        << error;
    auto deadline = e2e::Clock::now() + kWait;
    while (!std::filesystem::is_symlink(device_path(kNode)) && e2e::Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(std::filesystem::is_symlink(device_path(kNode))) << "the node made no pty";
    ASSERT_NO_FATAL_FAILURE(start_gateway(node_config(), {kNode}));
  }

  void TearDown() override {
    NodeE2eTest::TearDown();
    EXPECT_TRUE(node_.signal_and_wait(SIGTERM, kWait)) << "the node did not end on SIGTERM";
    auto status = node_.status();
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << e2e::Process::describe(status);
    EXPECT_FALSE(std::filesystem::exists(device_path(kNode))) << "the node left its link behind";
  }

  std::string node_log() const { return e2e::read_text(dir() / "node.log"); }

  e2e::Process node_;
};

TEST_F(FirmwareHostNode, ReadingsArriveWithConsecutiveNumbers) {
  auto n = node_readings("n", 5);
  ASSERT_EQ(n.size(), 5u) << diagnostics();
  EXPECT_TRUE(Consecutive(n)) << diagnostics();
  auto t = node_readings("t", 1);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_GE(t[0].value("value", 0.0), 18.0) << t[0].dump();
  EXPECT_LE(t[0].value("value", 100.0), 24.0) << t[0].dump();
}

TEST_F(FirmwareHostNode, AnswersPingVersionAndErrorsThroughMqtt) {
  Json ping = request("PING");
  EXPECT_EQ(ping.value("ok", false), true) << ping.dump();
  EXPECT_EQ(ping.value("reply", ""), "PONG") << ping.dump();
  EXPECT_EQ(request("VERSION").value("reply", ""), "OK fw=" FG_NODE_FW_VERSION " proto=1 board=host");
  EXPECT_EQ(request("bogus").value("reply", ""), "ERR unknown command");
  EXPECT_EQ(request("interval=-5").value("reply", ""), "ERR bad value");
}

TEST_F(FirmwareHostNode, SetDrivesTheOutputAndShowsInTheReadings) {
  Json reply = set("out", "on");
  EXPECT_EQ(reply.value("reply", ""), "OK out=1") << reply.dump();
  auto deadline = e2e::Clock::now() + kWait;
  while (node_log().find("output pin high") == std::string::npos && e2e::Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(node_log().find("output pin high"), std::string::npos) << node_log();
  std::size_t from = sub_->messages().size();
  auto out = node_readings("out", 1, from);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value("value", 0.0), 1.0) << out[0].dump();
}

TEST_F(FirmwareHostNode, AWatchdogResetIsPublished) {
  std::size_t before = sub_->messages().size();
  EXPECT_EQ(request("HANG").value("reply", ""), "OK hang");
  std::size_t at = wait_index(topic(std::string(kNode) + "/reset"), before);
  ASSERT_NE(at, kNone) << diagnostics();
  Json reset = Json::parse(sub_->messages()[at].payload, nullptr, false);
  EXPECT_EQ(reset.value("value", ""), "watchdog") << reset.dump();
  // The node starts again from n=1, on the same pty: the gateway never saw it go.
  auto n = node_readings("n", 3, at);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].value("value", 0.0), 1.0) << n[0].dump();
  EXPECT_TRUE(Consecutive(n));
  EXPECT_EQ(request("PING").value("reply", ""), "PONG");
}

}  // namespace
}  // namespace fg::firmware::test
