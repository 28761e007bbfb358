// The node core (firmware/core/node.h) on a test board: the boot announcement, periodic readings, every
// command and its reply, and every kind of broken input, which is counted and never answered or hung on.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "tests/firmware/node_harness.hpp"

namespace fg::firmware::test {
namespace {

TEST(FirmwareNode, AnnouncesTheBootWithADelimiterFirstAndTheResetCause) {
  NodeHarness h;
  h.start(FG_RESET_WATCHDOG);
  ASSERT_FALSE(h.wire().empty());
  EXPECT_EQ(h.wire()[0], '\0') << "a lone delimiter ends whatever the gateway held";
  auto frames = h.take_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].intact);
  EXPECT_EQ(frames[0].type, FG_FRAME_TYPE_DATA);
  EXPECT_EQ(frames[0].text, "reset=watchdog fw=" FG_NODE_FW_VERSION);
}

TEST(FirmwareNode, NamesEveryResetCause) {
  EXPECT_STREQ(fg_reset_cause_name(FG_RESET_POWER_ON), "power-on");
  EXPECT_STREQ(fg_reset_cause_name(FG_RESET_EXTERNAL), "external");
  EXPECT_STREQ(fg_reset_cause_name(FG_RESET_BROWNOUT), "brownout");
  EXPECT_STREQ(fg_reset_cause_name(FG_RESET_WATCHDOG), "watchdog");
  EXPECT_STREQ(fg_reset_cause_name(FG_RESET_UNKNOWN), "unknown");
  EXPECT_STREQ(fg_reset_cause_name(200), "unknown");
}

TEST(FirmwareNode, SendsAReadingEveryIntervalWithConsecutiveNumbers) {
  NodeHarness h;
  h.start(FG_RESET_POWER_ON, 5000);
  h.take_frames();
  h.poll(5999);
  EXPECT_TRUE(h.take_frames().empty()) << "not before the interval has passed";
  h.poll(6000);
  auto frames = h.take_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, FG_FRAME_TYPE_DATA);
  EXPECT_EQ(frames[0].text, "n=1 t=21.50 h=40.5 out=0");
  h.sensors[0].value = -125;
  h.poll(7000);
  frames = h.take_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].text, "n=2 t=-1.25 h=40.5 out=0");
}

TEST(FirmwareNode, KeepsTimeAcrossTheWrapOfTheMillisecondClock) {
  NodeHarness h;
  h.start(FG_RESET_POWER_ON, 0xFFFFFF00u);
  h.take_frames();
  h.poll(0xFFFFFF00u + 999u);
  EXPECT_TRUE(h.take_frames().empty());
  h.poll(0xFFFFFF00u + 1000u);  // 0x2E8 after the wrap
  EXPECT_EQ(h.take_frames().size(), 1u);
  EXPECT_EQ(h.ask("UPTIME"), "OK up=1.000");
}

TEST(FirmwareNode, AnswersPing) {
  NodeHarness h;
  h.start();
  h.take_frames();
  EXPECT_EQ(h.ask("PING"), "PONG");
}

TEST(FirmwareNode, ReadSendsAReadingAtOnceAndSaysWhichOne) {
  NodeHarness h;
  h.start();
  h.take_frames();
  h.receive(command("READ"));
  auto frames = h.take_frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, FG_FRAME_TYPE_DATA);
  EXPECT_EQ(frames[0].text, "n=1 t=21.50 h=40.5 out=0");
  EXPECT_EQ(frames[1].type, FG_FRAME_TYPE_REPLY);
  EXPECT_EQ(frames[1].text, "OK n=1");
}

TEST(FirmwareNode, ReportsVersionAndUptime) {
  NodeHarness h;
  h.start(FG_RESET_POWER_ON, 100);
  h.take_frames();
  EXPECT_EQ(h.ask("VERSION"), "OK fw=" FG_NODE_FW_VERSION " proto=1 board=test");
  EXPECT_EQ(h.ask("UPTIME"), "OK up=0.000");
  h.node.interval_ms = 0;  // no readings in between
  h.poll(100 + 2345);
  EXPECT_EQ(h.ask("UPTIME"), "OK up=2.345");
  h.poll(100 + 2345 + 5);
  EXPECT_EQ(h.ask("UPTIME"), "OK up=2.350");
  h.poll(100 + 3600u * 1000u);
  EXPECT_EQ(h.ask("UPTIME"), "OK up=3600.000");
}

TEST(FirmwareNode, DrivesTheOutputPinAndReportsItInReadings) {
  NodeHarness h;
  h.start();
  h.take_frames();
  EXPECT_EQ(h.ask("out=on"), "OK out=1");
  EXPECT_EQ(h.ask("out=0"), "OK out=0");
  EXPECT_EQ(h.ask("out=true"), "OK out=1");
  EXPECT_EQ(h.output_levels, (std::vector<std::uint8_t>{1, 0, 1}));
  h.poll(1000);
  auto frames = h.take_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].text, "n=1 t=21.50 h=40.5 out=1");
}

TEST(FirmwareNode, ChangesTheIntervalFromNowAndZeroStopsReadings) {
  NodeHarness h;
  h.start(FG_RESET_POWER_ON, 0);
  h.take_frames();
  EXPECT_EQ(h.ask("interval=250", 900), "OK interval=250");
  h.poll(1000);
  EXPECT_TRUE(h.take_frames().empty()) << "the new interval counts from the command";
  h.poll(1150);
  EXPECT_EQ(h.take_frames().size(), 1u);
  EXPECT_EQ(h.ask("interval=0", 1200), "OK interval=0");
  for (std::uint32_t t = 1200; t < 100000; t += 1000) {
    h.poll(t);
  }
  EXPECT_TRUE(h.take_frames().empty());
  EXPECT_EQ(h.ask("READ"), "<2 frames>") << "READ still works with readings stopped";
}

TEST(FirmwareNode, HangIsAnsweredAndThenRaisesTheFlagForTheBoard) {
  NodeHarness h;
  h.start();
  h.take_frames();
  EXPECT_EQ(h.node.hang, 0);
  EXPECT_EQ(h.ask("HANG"), "OK hang");
  EXPECT_EQ(h.node.hang, 1);
}

TEST(FirmwareNode, AnswersEveryMalformedCommandWithAnError) {
  NodeHarness h;
  h.start();
  h.take_frames();
  EXPECT_EQ(h.ask(""), "ERR empty command");
  EXPECT_EQ(h.ask("bogus"), "ERR unknown command");
  EXPECT_EQ(h.ask("out=2"), "ERR bad value");
  EXPECT_EQ(h.ask("interval=86400001"), "ERR out of range");
  EXPECT_EQ(h.ask(std::string("PI\0NG", 5)), "ERR bad byte");
  EXPECT_EQ(h.ask("\xff"), "ERR bad byte");
  EXPECT_EQ(h.node.counters.commands, 6);
  EXPECT_EQ(h.node.counters.errors, 6);
  EXPECT_EQ(h.ask("PING"), "PONG") << "and goes on answering";
}

TEST(FirmwareNode, AnswersACommandTooLongForItsBufferWithAnErrorOnly) {
  NodeHarness h;
  h.start();
  h.take_frames();
  EXPECT_EQ(h.ask(std::string(FG_NODE_MAX_COMMAND, 'A')), "ERR unknown command") << "the longest that fits";
  EXPECT_EQ(h.ask(std::string(FG_NODE_MAX_COMMAND + 1, 'A')), "ERR too long");
  EXPECT_EQ(h.ask("interval=5" + std::string(1000, '0')), "ERR too long");
  EXPECT_EQ(h.node.counters.overlong, 2);
  EXPECT_EQ(h.ask("PING"), "PONG");
}

// Broken frames are counted and dropped without a reply: a frame that failed its CRC may not have been a
// command at all, and a reply to line noise could be taken for the answer to a real request.
struct BrokenFrame {
  const char* name;
  std::string bytes;
  std::uint16_t fg_node_counters::*counter;
};

std::string with_version(unsigned version, std::string_view payload) {
  std::string frame(1, static_cast<char>((version << 4) | FG_FRAME_TYPE_COMMAND));
  frame += payload;
  std::uint16_t crc = fg_crc16(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size());
  frame += static_cast<char>(crc >> 8);
  frame += static_cast<char>(crc & 0xFF);
  std::string wire(FG_COBS_MAX_ENCODED_SIZE(frame.size()), '\0');
  std::size_t n = fg_cobs_encode(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size(),
                                 reinterpret_cast<std::uint8_t*>(wire.data()), wire.size());
  return wire.substr(0, n) + '\0';
}

std::string corrupted(std::string wire, std::size_t at) {
  wire[at] = static_cast<char>(wire[at] ^ 0x20);
  return wire;
}

TEST(FirmwareNode, CountsAndDropsEveryKindOfBrokenFrameWithoutAReply) {
  const BrokenFrame cases[] = {
      {"a lone delimiter", std::string(1, '\0'), &fg_node_counters::empty},
      {"a delimiter inside a COBS block",
       std::string("\x05"
                   "ab\0",
                   4),
       &fg_node_counters::bad_cobs},
      {"two bytes", std::string("\x03\x11\x22\0", 4), &fg_node_counters::too_short},
      {"one byte", std::string("\x02\x11\0", 3), &fg_node_counters::too_short},
      {"a corrupted payload", corrupted(command("PING"), 3), &fg_node_counters::bad_crc},
      {"a corrupted CRC", corrupted(command("PING"), 6), &fg_node_counters::bad_crc},
      {"protocol version 2", with_version(2, "PING"), &fg_node_counters::bad_version},
      {"protocol version 0", with_version(0, "PING"), &fg_node_counters::bad_version},
      {"a DATA frame", wire_frame(FG_FRAME_TYPE_DATA, "t=1"), &fg_node_counters::bad_type},
      {"a REPLY frame (an echo)", wire_frame(FG_FRAME_TYPE_REPLY, "PONG"), &fg_node_counters::bad_type},
      {"a reserved type", wire_frame(7, "PING"), &fg_node_counters::bad_type},
  };
  for (const auto& c : cases) {
    NodeHarness h;
    h.start();
    h.take_frames();
    h.receive(c.bytes);
    EXPECT_EQ(h.node.counters.*c.counter, 1) << c.name;
    EXPECT_EQ(h.node.counters.commands, 0) << c.name;
    EXPECT_TRUE(h.take_frames().empty()) << c.name << " was answered";
    EXPECT_EQ(h.ask("PING"), "PONG") << "the node resynchronises after " << c.name;
  }
}

TEST(FirmwareNode, StatsReportsTheCounters) {
  NodeHarness h;
  h.start();
  h.take_frames();
  h.receive(
      std::string("\0\x05"
                  "ab\0",
                  5));
  h.receive(corrupted(command("PING"), 3));
  h.receive(wire_frame(FG_FRAME_TYPE_DATA, "x"));
  h.receive(command(std::string(100, 'x')));
  h.receive(command("nope"));
  h.take_frames();
  fg_node_note_overrun(&h.node, 5);
  EXPECT_EQ(h.ask("STATS"), "OK cmd=2 err=2 empty=1 cobs=1 short=0 crc=1 ver=0 type=1 long=1 ovr=5 trunc=0");
}

TEST(FirmwareNode, StatsFitsItsFrameWithEveryCounterAtItsLargest) {
  NodeHarness h;
  h.start();
  h.take_frames();
  for (std::uint16_t* c : {&h.node.counters.commands, &h.node.counters.errors, &h.node.counters.empty,
                           &h.node.counters.bad_cobs, &h.node.counters.too_short, &h.node.counters.bad_crc,
                           &h.node.counters.bad_version, &h.node.counters.bad_type, &h.node.counters.overlong,
                           &h.node.counters.overrun, &h.node.counters.truncated}) {
    *c = 65534;  // STATS itself adds one command
  }
  std::string reply = h.ask("STATS");
  EXPECT_EQ(reply,
            "OK cmd=65535 err=65534 empty=65534 cobs=65534 short=65534 crc=65534 ver=65534 type=65534 "
            "long=65534 ovr=65534 trunc=65534");
  EXPECT_LE(reply.size(), FG_NODE_MAX_TEXT);
}

TEST(FirmwareNode, LeavesOutReadingsThatDoNotFitAndCountsThem) {
  NodeHarness h;
  h.sensors.assign(FG_BOARD_MAX_READINGS + 2, fg_reading{"a_rather_long_sensor_name", INT32_MIN, 0});
  h.start();
  h.take_frames();
  h.poll(1000);
  auto frames = h.take_frames();
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_TRUE(frames[0].intact);
  EXPECT_LE(frames[0].text.size(), FG_NODE_MAX_TEXT);
  EXPECT_EQ(frames[0].text.rfind("n=1 a_rather_long_sensor_name=-2147483648 ", 0), 0u) << frames[0].text;
  EXPECT_EQ(frames[0].text.find("=-214748364 "), std::string::npos) << "no value is cut: " << frames[0].text;
  EXPECT_GT(h.node.counters.truncated, 0);
  EXPECT_LE(h.sensor_reads, 1);
}

TEST(FirmwareNode, TakesCommandsSplitAnywhereAndBackToBack) {
  NodeHarness h;
  h.start();
  h.take_frames();
  std::string both = command("PING") + command("out=1");
  for (std::size_t split = 1; split < both.size(); ++split) {
    h.receive(both.substr(0, split));
    h.receive(both.substr(split));
    auto frames = h.take_frames();
    ASSERT_EQ(frames.size(), 2u) << "split at " << split;
    EXPECT_EQ(frames[0].text, "PONG");
    EXPECT_EQ(frames[1].text, "OK out=1");
  }
}

// A stream of random bytes: whatever it holds, the node only ever sends intact frames, never more than one
// REPLY per delimiter it received, and answers a PING afterwards.
TEST(FirmwareNode, RandomBytesNeverBreakTheNode) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    NodeHarness h;
    h.start();
    h.take_frames();
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> byte(0, 255), small(0, 15);
    std::string noise;
    for (int i = 0; i < 20000; ++i) {
      // Plenty of zeros and small values, so that short frames and COBS codes come up often.
      int b = byte(rng);
      noise += static_cast<char>(b < 32 ? 0 : b < 96 ? small(rng) : b);
    }
    // Noise that ends inside a frame takes the next command with it (no receiver can tell where the noise
    // ended), so the stream ends with a delimiter, as the line's next frame boundary would.
    noise += '\0';
    h.receive(noise);
    std::size_t delimiters = std::count(noise.begin(), noise.end(), '\0');
    auto frames = h.take_frames();
    EXPECT_LE(frames.size(), delimiters) << "seed " << seed;
    for (const auto& f : frames) {
      EXPECT_TRUE(f.intact) << "seed " << seed;
    }
    EXPECT_EQ(h.ask("PING"), "PONG") << "seed " << seed;
  }
}

}  // namespace
}  // namespace fg::firmware::test
