// End to end: garbage from a device (or on the command topics) never hurts. After a megabyte without a
// delimiter, random bytes, NUL bytes, invalid UTF-8 and JSON that is not an object, the next valid line
// is still a reading, the process still runs, and its SIGUSR1 counters account for what was dropped.

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "devices/serial/cobs_encoder.hpp"
#include "firmware/protocol/frame.h"
#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eGarbage : public E2eTest {
 protected:
  // Waits until the log has `text` in it (the drop watch samples every few seconds).
  bool wait_log(const std::string& text, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (log().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  static std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
      ++n;
    }
    return n;
  }
};

std::string cobs_frame(std::uint8_t type, const std::string& text) {
  auto bytes = devices::serial::encode_cobs_frame(
      type, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  return std::string(bytes.begin(), bytes.end());
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(n, '\0');
  for (auto& c : out) {
    c = static_cast<char>(byte(rng));
  }
  return out;
}

TEST_F(E2eGarbage, JsonDeviceSurvivesGarbageAndTheNextValidLineIsAReading) {
  auto& dev = add_device("junk");
  std::string config =
      config_head() + serial_head("junk") + "parser = \"json\"\n[serial.channels.t]\nunit = \"°C\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"junk"}));
  const int fd = dev.master_fd();

  ASSERT_TRUE(write_all(fd, std::string(1 << 20, 'A'))) << "1 MiB without a delimiter" << diagnostics();
  ASSERT_TRUE(write_all(fd, "\n"));
  ASSERT_TRUE(write_all(fd, random_bytes(64 * 1024, 20261123))) << diagnostics();
  ASSERT_TRUE(write_all(fd, "\n"));
  ASSERT_TRUE(write_all(fd, std::string("\0\0\0\n{\"t\":1\0}\n\0{\"t\":2}\n", 19)));
  ASSERT_TRUE(write_all(fd, "{\"t\":\"\xff\xfe\"}\n\xc3\x28\n{\"\xed\xa0\x80\":3}\n"));
  ASSERT_TRUE(write_all(fd, "[1,2,3]\n42\n\"text\"\nnull\n{\"t\":\n}}}\n"));
  ASSERT_TRUE(write_all(fd, "{\"t\":21.5}\n"));

  auto readings = wait_readings(topic("junk/t"), 1);
  ASSERT_EQ(readings.size(), 1u) << diagnostics();
  EXPECT_EQ(readings[0].value("value", 0.0), 21.5) << readings[0].dump();
  EXPECT_EQ(readings[0].value("seq", 0), 1) << "garbage made a reading before it: " << readings[0].dump();
  EXPECT_TRUE(gateway_.running()) << diagnostics();

  std::string line = counters_line("junk");
  EXPECT_GT(counter(line, " overlong"), 0) << line;
  EXPECT_GT(counter(line, " rejected lines"), 0) << line;
  EXPECT_EQ(counter(line, " readings"), 1) << line;
  EXPECT_TRUE(gateway_.running()) << diagnostics();
}

// Garbage for a while is logged once when it starts and once when it has stopped, with the count, not once
// per line (DESIGN.md rule 11).
TEST_F(E2eGarbage, AGarbageEpisodeIsLoggedOnceAtItsStartAndOnceAtItsEndWithTheCount) {
  auto& dev = add_device("junk");
  ASSERT_NO_FATAL_FAILURE(
      start_gateway(config_head() + serial_head("junk") + "parser = \"json\"\n", {"junk"}));
  std::string burst;
  for (int i = 0; i < 40; ++i) {
    burst += "not json\n";
  }
  ASSERT_TRUE(write_all(dev.master_fd(), burst));
  ASSERT_TRUE(wait_log("junk: dropping rejected lines (40 so far)", std::chrono::seconds(15)))
      << diagnostics();
  ASSERT_TRUE(write_all(dev.master_fd(), burst.substr(0, 10 * 9)));  // ten more, within the same episode
  ASSERT_TRUE(wait_log("junk: stopped dropping rejected lines: 50 dropped in ", std::chrono::seconds(20)))
      << diagnostics();
  const std::string text = log();
  EXPECT_EQ(occurrences(text, "dropping rejected lines"), 2u)
      << "one line at the start, one at the end" << diagnostics();
  EXPECT_TRUE(gateway_.running()) << diagnostics();
}

TEST_F(E2eGarbage, KvDeviceSurvivesGarbageAndTheNextValidLineIsAReading) {
  auto& dev = add_device("junk");
  std::string config = config_head() + serial_head("junk") +
                       "parser = \"kv\"\nunlisted = \"drop\"\nmax_line = 256\n"
                       "[serial.channels.t]\nunit = \"°C\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"junk"}));
  const int fd = dev.master_fd();

  ASSERT_TRUE(write_all(fd, std::string(1 << 20, '=')));
  ASSERT_TRUE(write_all(fd, "\n"));
  ASSERT_TRUE(write_all(fd, random_bytes(64 * 1024, 7)));
  ASSERT_TRUE(write_all(fd, std::string("\nt=\0\n\0\0\n", 8)));
  ASSERT_TRUE(write_all(fd, "t=\xff\xfe\nt=\xc0\xaf\n=\n===\nt=\nt=abc\n"));
  ASSERT_TRUE(write_all(fd, "t=21.5\n"));

  auto readings = wait_readings(topic("junk/t"), 1);
  ASSERT_EQ(readings.size(), 1u) << diagnostics();
  EXPECT_EQ(readings[0].value("value", 0.0), 21.5) << readings[0].dump();
  EXPECT_EQ(readings[0].value("seq", 0), 1) << "garbage made a reading before it: " << readings[0].dump();

  std::string line = counters_line("junk");
  EXPECT_GT(counter(line, " overlong"), 0) << line;
  EXPECT_GT(counter(line, " rejected lines"), 0) << line;
  EXPECT_GT(counter(line, " invalid values"), 0) << "t=abc is no number: " << line;
  EXPECT_TRUE(gateway_.running()) << diagnostics();
}

TEST_F(E2eGarbage, CobsDeviceSurvivesGarbageFrames) {
  auto& dev = add_device("node");
  std::string config = config_head() + serial_head("node") + "framing = \"cobs\"\nparser = \"json\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"node"}));
  const int fd = dev.master_fd();

  ASSERT_TRUE(write_all(fd, std::string(1 << 20, '\x07')));  // one frame far over max_payload
  ASSERT_TRUE(write_all(fd, std::string(1, '\0')));
  ASSERT_TRUE(write_all(fd, random_bytes(64 * 1024, 99)));
  ASSERT_TRUE(write_all(fd, std::string("\0\0\0\x03\x01\x02\0", 7)));  // empty, too short
  ASSERT_TRUE(write_all(fd, "{\"n\":1}\n"));                           // a text line is no frame
  ASSERT_TRUE(write_all(fd, std::string(1, '\0')));
  ASSERT_TRUE(
      write_all(fd, cobs_frame(FG_FRAME_TYPE_DATA, "[1,2]") + cobs_frame(FG_FRAME_TYPE_DATA, "\xff{")));
  ASSERT_TRUE(write_all(fd, cobs_frame(FG_FRAME_TYPE_DATA, "{\"n\":2}")));

  auto readings = wait_readings(topic("node/n"), 1);
  ASSERT_EQ(readings.size(), 1u) << diagnostics();
  EXPECT_EQ(readings[0].value("value", 0.0), 2.0) << readings[0].dump();
  EXPECT_EQ(readings[0].value("seq", 0), 1) << "garbage made a reading before it: " << readings[0].dump();

  std::string line = counters_line("node");
  EXPECT_GT(counter(line, " overlong"), 0) << line;
  EXPECT_GT(counter(line, " bad crc"), 0) << line;
  EXPECT_GT(counter(line, " rejected lines"), 0) << line;
  EXPECT_TRUE(gateway_.running()) << diagnostics();
}

TEST_F(E2eGarbage, GarbageCommandsAreRefusedWithoutHarm) {
  auto& dev = add_device("dev");
  std::string config = config_head() + serial_head("dev") + "write_queue = 1024\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"dev"}));

  ASSERT_TRUE(sub_->publish(topic("nosuch/write"), "X"));                       // unknown device
  ASSERT_TRUE(sub_->publish(topic("dev/write"), std::string(64 * 1024, 'x')));  // over write_queue
  ASSERT_TRUE(sub_->publish(topic("dev/request"), "PING"));                     // no [serial.request]
  ASSERT_TRUE(sub_->publish(topic("dev/a/b/set"), "1"));                        // no such command topic
  ASSERT_TRUE(sub_->publish(topic("dev/t/set"), "{value}{"));                   // braces in the value
  ASSERT_TRUE(sub_->publish(topic("dev/write"), ""));                           // empty
  ASSERT_TRUE(sub_->publish(topic("dev/write"), "OK"));

  // The empty write is just the terminator; the brace value is written as it is.
  std::string expected = "t={value}{\n\nOK\n";
  std::string got = read_exactly(dev.master_fd(), expected);
  EXPECT_EQ(escaped(got), escaped(expected)) << diagnostics();
  EXPECT_NE(log().find("unknown device nosuch"), std::string::npos) << diagnostics();
  std::string line = counters_line("dev");
  EXPECT_GE(counter(line, " refused"), 2) << "the oversized write and the request: " << line;
  EXPECT_TRUE(gateway_.running()) << diagnostics();
}

// Field names from a device become topic levels; names that would land on the gateway's own
// availability or command topics ("status", "write", "request", "<x>/set") are dropped and counted.
TEST_F(E2eGarbage, FieldNamedLikeACommandTopicIsNotExecuted) {
  auto& dev = add_device("dev");
  std::string config = config_head() + serial_head("dev") + "parser = \"kv\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"dev"}));
  ASSERT_TRUE(dev.send("write=REBOOT x/set=1\n"));
  ASSERT_TRUE(dev.send("t=1\n"));
  ASSERT_EQ(wait_readings(topic("dev/t"), 1).size(), 1u) << diagnostics();
  // Whatever the gateway did with those two fields, nothing may come back to the device.
  ASSERT_TRUE(sub_->publish(topic("dev/write"), "MARK"));
  std::string got = read_exactly(dev.master_fd(), "MARK\n");
  EXPECT_EQ(escaped(got), "MARK\\n") << diagnostics();
}

TEST_F(E2eGarbage, FieldNamedStatusDoesNotOverwriteTheDeviceAvailability) {
  auto& dev = add_device("dev");
  std::string config = config_head() + serial_head("dev") + "parser = \"kv\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"dev"}));
  ASSERT_TRUE(dev.send("status=ok t=1\n"));
  ASSERT_EQ(wait_readings(topic("dev/t"), 1).size(), 1u) << diagnostics();
  for (const auto& m : sub_->on_topic(device_status_topic("dev"))) {
    EXPECT_TRUE(m.payload == "online" || m.payload == "offline") << m.payload;
  }
  std::string line = counters_line("dev");
  EXPECT_EQ(counter(line, " bad names"), 1) << line;
}

}  // namespace
}  // namespace fg::e2e
