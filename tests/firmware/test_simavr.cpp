// End to end on the real AVR binary: fieldgate-node.elf (the ATmega328P build) runs in simavr under our
// host program fieldgate-simavr, whose pty the real fieldgate reads as a COBS port, with a real broker and a
// real subscriber. The output pin is watched through simavr's pin IRQ, resets through simavr's reset, and
// garbage is injected on the line in both directions through the host program's control FIFO.

#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "firmware/core/node.h"
#include "tests/firmware/node_e2e.hpp"
#include "tests/firmware/node_harness.hpp"

namespace fg::firmware::test {
namespace {

class FirmwareSimavr : public NodeE2eTest {
 protected:
  void SetUp() override {
    NodeE2eTest::SetUp();
    ASSERT_EQ(::mkfifo(control_path().c_str(), 0600), 0);
    std::string error;
    ASSERT_TRUE(sim_.spawn({FIELDGATE_SIMAVR_BINARY, "--elf", FIELDGATE_NODE_ELF, "--link",
                            device_path(kNode), "--control", control_path().string()},
                           dir() / "sim.events", dir() / "sim.log", &error))
        << error;
    ASSERT_TRUE(wait_event("ready link=")) << sim_log();
    ASSERT_NO_FATAL_FAILURE(start_gateway(node_config(), {kNode}));
  }

  void TearDown() override {
    NodeE2eTest::TearDown();
    EXPECT_TRUE(sim_.signal_and_wait(SIGTERM, kWait)) << "fieldgate-simavr did not end on SIGTERM";
    auto status = sim_.status();
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << e2e::Process::describe(status) << sim_log();
    EXPECT_FALSE(std::filesystem::exists(device_path(kNode))) << "fieldgate-simavr left its link behind";
  }

  std::filesystem::path control_path() const { return dir() / "control"; }
  std::string events() const { return e2e::read_text(dir() / "sim.events"); }
  std::string sim_log() const {
    return "\n--- simavr events ---\n" + events() + "--- simavr log ---\n" +
           e2e::read_text(dir() / "sim.log");
  }

  // Waits until the events hold a line that starts with `start` after byte `from`.
  bool wait_event(const std::string& start, std::size_t from = 0) {
    auto deadline = e2e::Clock::now() + kWait;
    while (e2e::Clock::now() < deadline) {
      std::string text = events();
      if (text.size() > from) {
        std::size_t at = text.find("\n" + start, from == 0 ? 0 : from - 1);
        if ((from == 0 && text.rfind(start, 0) == 0) || at != std::string::npos) {
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void control(const std::string& line) {
    int fd = ::open(control_path().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string text = line + "\n";
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  }

  static std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
      out += digits[c >> 4];
      out += digits[c & 15];
    }
    return out;
  }

  // A number in a STATS reply: "crc=1" -> 1.
  static long stat(const std::string& reply, const std::string& name) {
    std::smatch m;
    if (std::regex_search(reply, m, std::regex("\\b" + name + "=(\\d+)"))) {
      return std::stol(m[1]);
    }
    return -1;
  }

  e2e::Process sim_;
};

TEST_F(FirmwareSimavr, ReadingsArriveWithConsecutiveNumbersAndTheAdcVoltage) {
  EXPECT_EQ(request("interval=200").value("reply", ""), "OK interval=200");
  std::size_t from = sub_->messages().size();
  auto n = node_readings("n", 5, from);
  ASSERT_EQ(n.size(), 5u) << diagnostics();
  EXPECT_TRUE(Consecutive(n)) << diagnostics();
  auto mv = node_readings("mv", 1, from);
  ASSERT_EQ(mv.size(), 1u);
  EXPECT_EQ(mv[0].value("value", 0.0), 2497.0) << "2500 mV on A0 reads 511 of 1023 at 5 V: " << mv[0].dump();

  control("adc0 1234");
  from = sub_->messages().size();
  bool seen = sub_->wait_for([&](const std::vector<fg::test::MqttMessage>& all) {
    for (std::size_t i = from; i < all.size(); ++i) {
      if (all[i].topic == topic("node/a0") && Json::parse(all[i].payload).value("value", 0.0) == 252.0) {
        return true;
      }
    }
    return false;
  });
  EXPECT_TRUE(seen) << "1234 mV reads 252 of 1023" << diagnostics();
}

TEST_F(FirmwareSimavr, APingGetsItsReplyThroughMqtt) {
  Json reply = request("PING");
  EXPECT_EQ(reply.value("ok", false), true) << reply.dump();
  EXPECT_EQ(reply.value("reply", ""), "PONG") << reply.dump();
  EXPECT_EQ(request("VERSION").value("reply", ""), "OK fw=" FG_NODE_FW_VERSION " proto=1 board=atmega328p");
  EXPECT_EQ(request("out=maybe").value("reply", ""), "ERR bad value");
}

TEST_F(FirmwareSimavr, ASetOverMqttDrivesThePinAndIsAnswered) {
  std::size_t mark = events().size();
  Json reply = set("out", "on");
  EXPECT_EQ(reply.value("reply", ""), "OK out=1") << reply.dump();
  EXPECT_TRUE(wait_event("pin B5=1", mark)) << "the pin IRQ never went high" << sim_log();
  mark = events().size();
  EXPECT_EQ(set("out", "off").value("reply", ""), "OK out=0");
  EXPECT_TRUE(wait_event("pin B5=0", mark)) << "the pin IRQ never went low" << sim_log();
}

TEST_F(FirmwareSimavr, GarbageIsCountedAndDroppedByBothEnds) {
  EXPECT_EQ(request("interval=200").value("reply", ""), "OK interval=200");
  std::size_t from = sub_->messages().size();

  // Towards the gateway, between two frames: a frame with a bad CRC, bytes that are no COBS, an empty frame.
  control("to-gateway " + hex(std::string("\x05\x11\x22\x33\x44\0\x07\x01\0\0", 10)));
  // Towards the node: an empty frame, a delimiter inside a block, a command with a bad CRC, a DATA frame
  // (an echo), and a command too long for its buffer.
  std::string ping = wire_frame(FG_FRAME_TYPE_COMMAND, "PING");
  ping[3] = static_cast<char>(ping[3] ^ 0x20);
  control("to-node " + hex(std::string("\0\x05"
                                       "ab\0",
                                       5) +
                           ping + wire_frame(FG_FRAME_TYPE_DATA, "t=1") +
                           wire_frame(FG_FRAME_TYPE_COMMAND, std::string(100, 'x'))));

  // The gateway counted its share...
  EXPECT_TRUE(wait_counters(std::string(kNode) + ": ", " bytes read, ", [](const std::string& line) {
    return counter(line, " bad crc") >= 1 && counter(line, " dropped bytes") >= 10;
  })) << counters_line(kNode);
  // ... and so did the node, which still answers.
  std::string stats = request("STATS").value("reply", "");
  EXPECT_GE(stat(stats, "empty"), 1) << stats;
  EXPECT_EQ(stat(stats, "cobs"), 1) << stats;
  EXPECT_EQ(stat(stats, "crc"), 1) << stats;
  EXPECT_EQ(stat(stats, "type"), 1) << stats;
  EXPECT_EQ(stat(stats, "long"), 1) << stats;
  EXPECT_EQ(request("PING").value("reply", ""), "PONG");

  // No reading was lost to the garbage: it went between frames.
  auto n = node_readings("n", 8, from);
  ASSERT_EQ(n.size(), 8u) << diagnostics();
  EXPECT_TRUE(Consecutive(n)) << diagnostics();
  EXPECT_TRUE(gateway_.running());
}

TEST_F(FirmwareSimavr, AWatchdogResetIsPublished) {
  std::size_t mark = events().size();
  std::size_t before = sub_->messages().size();
  EXPECT_EQ(request("HANG").value("reply", ""), "OK hang");
  EXPECT_TRUE(wait_event("reset cause=watchdog", mark)) << sim_log();
  std::size_t at = wait_index(topic(std::string(kNode) + "/reset"), before);
  ASSERT_NE(at, kNone) << diagnostics();
  Json reset = Json::parse(sub_->messages()[at].payload, nullptr, false);
  EXPECT_EQ(reset.value("value", ""), "watchdog") << reset.dump();
  auto fw = node_readings("fw", 1, before);
  ASSERT_EQ(fw.size(), 1u);
  EXPECT_EQ(fw[0].value("value", ""), FG_NODE_FW_VERSION);
  // The chip starts again from n=1 and answers as before.
  auto n = node_readings("n", 2, at);
  ASSERT_EQ(n.size(), 2u) << diagnostics();
  EXPECT_EQ(n[0].value("value", 0.0), 1.0) << n[0].dump();
  EXPECT_TRUE(Consecutive(n));
  EXPECT_EQ(request("PING").value("reply", ""), "PONG");
}

}  // namespace
}  // namespace fg::firmware::test
