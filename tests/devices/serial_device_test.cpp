// SerialDevice on a pty pair: lines become Readings, Commands become bytes, requests wait for their replies
// in order (the request queue's coroutine), and the device may be destroyed inside its own Sink callbacks.

#include "devices/serial/serial_device.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/serial/request_queue.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/pty_device.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::devices::serial {
namespace {

using namespace std::chrono_literals;

class SerialDeviceTest : public test::LoopTest {
 protected:
  test::TempDir dir;
  test::PtyDevice pty{dir / "ttyTest"};
  std::vector<Reading> readings;
  std::vector<Reply> replies;
  std::vector<bool> availability;
  std::vector<std::string> log_lines;
  std::unique_ptr<SerialDevice> device;

  SerialDeviceSettings settings() {
    SerialDeviceSettings s;
    s.name = "dev";
    s.port.path = pty.path().string();
    s.port.reopen_interval = 50ms;
    return s;
  }

  // Records everything and stops the loop after each event, so run_until() can check its condition.
  Device::Sink recorder() {
    Device::Sink sink;
    sink.on_reading = [this](Reading&& r) {
      readings.push_back(std::move(r));
      loop.stop();
    };
    sink.on_availability = [this](bool online, std::error_code) {
      availability.push_back(online);
      loop.stop();
    };
    sink.on_reply = [this](Reply&& r) {
      replies.push_back(std::move(r));
      loop.stop();
    };
    sink.on_log = [this](Severity, std::string_view line) { log_lines.emplace_back(line); };
    return sink;
  }

  void create(SerialDeviceSettings s, Device::Sink sink, ChannelNameRule rule = {}) {
    auto made = SerialDevice::create(loop, std::move(s), std::move(sink), std::move(rule));
    ASSERT_TRUE(made) << made.error();
    device = std::move(*made);
    ASSERT_TRUE(device->online());
    pty.release_slave();
  }

  template <typename Condition>
  void run_until(Condition done) {
    while (!done()) {
      ASSERT_FALSE(loop.run_for(5s)) << "no event for 5 s";
    }
  }

  // What the device wrote to the port, once `expected` bytes of it arrived.
  std::string written(std::size_t expected) {
    std::string out;
    for (int i = 0; i < 500 && out.size() < expected; ++i) {
      out += pty.receive();
      if (out.size() < expected) {
        loop.run_for(5ms);
      }
    }
    return out;
  }

  static std::uint64_t counter(const Device& d, std::string_view name) {
    for (const auto& c : d.counters()) {
      if (c.name == name) {
        return c.value;
      }
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }

  void TearDown() override {
    device.reset();
    pty.unplug();  // its descriptors were opened after the fixture counted them
    test::LoopTest::TearDown();
  }
};

TEST_F(SerialDeviceTest, LinesBecomeReadingsWithTheChannelsUnitsAndNoSeq) {
  auto s = settings();
  ChannelSettings t;
  t.spec.name = "t";
  t.spec.unit = "°C";
  s.channels.push_back(t);
  create(s, recorder());
  EXPECT_EQ(device->kind(), "serial");
  EXPECT_EQ(log_lines.at(0), pty.path().string() + " open");
  ASSERT_TRUE(pty.send("t=21.5 mode=eco\n"));
  run_until([&] { return readings.size() >= 2; });
  EXPECT_EQ(readings[0].device, "dev");
  EXPECT_EQ(readings[0].channel, "t");
  EXPECT_EQ(readings[0].value, ReadingValue(21.5));
  EXPECT_EQ(readings[0].unit, "°C");
  EXPECT_EQ(readings[0].seq, 0u) << "the gateway numbers readings, not the device";
  EXPECT_EQ(readings[1].channel, "mode");
  EXPECT_EQ(readings[1].value, ReadingValue(std::string("eco")));
  EXPECT_EQ(counter(*device, "readings"), 2u);
  ASSERT_EQ(device->channels().size(), 1u);
  EXPECT_EQ(device->channels()[0].unit, "°C");
  EXPECT_TRUE(device->channels()[0].settable);
}

TEST_F(SerialDeviceTest, ChannelNamesFoundAtRunTimeFollowTheGivenRule) {
  create(settings(), recorder(), [](std::string_view name) { return name != "status"; });
  ASSERT_TRUE(pty.send("status=1 t=2\n"));
  run_until([&] { return !readings.empty(); });
  ASSERT_EQ(readings.size(), 1u);
  EXPECT_EQ(readings[0].channel, "t");
  EXPECT_EQ(counter(*device, "bad_names"), 1u);
}

// Unlisted channels: JSON booleans stay booleans, and integers stay exact beyond 2^53 (kv text and JSON).
TEST_F(SerialDeviceTest, UnlistedChannelsKeepBooleansAndExactIntegers) {
  create(settings(), recorder());
  ASSERT_TRUE(pty.send("n=9007199254740993 t=21.5\n"));
  run_until([&] { return readings.size() >= 2; });
  EXPECT_EQ(readings[0].value, ReadingValue(std::int64_t{9007199254740993}));
  EXPECT_EQ(readings[1].value, ReadingValue(21.5));
  device.reset();
  readings.clear();
  pty.plug();
  auto s = settings();
  s.parser = JsonParserConfig{};
  create(s, recorder());
  ASSERT_TRUE(pty.send("{\"b\":true,\"n\":9007199254740993,\"s\":\"1\"}\n"));
  run_until([&] { return readings.size() >= 3; });
  EXPECT_EQ(readings[0].value, ReadingValue(true));
  EXPECT_EQ(readings[1].value, ReadingValue(std::int64_t{9007199254740993}));
  EXPECT_EQ(readings[2].value, ReadingValue(std::int64_t{1})) << "text that reads as a number, as from kv";
}

TEST_F(SerialDeviceTest, CommandsAreWrittenWithTheTerminatorAndSetFormat) {
  auto s = settings();
  s.write_terminator = "\r\n";
  ChannelSettings led;
  led.spec.name = "led";
  led.set_format = "LED {value}";
  s.channels.push_back(led);
  create(s, recorder());
  EXPECT_FALSE(device->accept(Command{CommandKind::write, "", "PING"}));
  EXPECT_FALSE(device->accept(Command{CommandKind::set, "led", "on"}));
  EXPECT_FALSE(device->accept(Command{CommandKind::set, "fan", "3"}));
  EXPECT_EQ(device->accept(Command{CommandKind::pulse, "led", ""}), std::errc::operation_not_supported);
  EXPECT_EQ(device->accept(Command{CommandKind::request, "", "READ?"}), std::errc::operation_not_supported)
      << "no request mode configured";
  const std::string expected = "PING\r\nLED on\r\nfan=3\r\n";
  EXPECT_EQ(written(expected.size()), expected);
  EXPECT_EQ(counter(*device, "commands"), 3u);
  EXPECT_EQ(counter(*device, "refused_commands"), 2u);
}

// A desired state restored before the device is plugged in (the register answers first) must not be lost,
// and a device that was unplugged comes back without the states it was given: both get them on open.
TEST_F(SerialDeviceTest, DesiredStatesAreWrittenWhenThePortOpensAndReopens) {
  auto s = settings();
  ChannelSettings relay;
  relay.spec.name = "relay";
  relay.set_format = "R{value}";
  s.channels.push_back(relay);
  pty.unplug();
  auto made = SerialDevice::create(loop, s, recorder(), {});
  ASSERT_TRUE(made) << made.error();
  device = std::move(*made);
  ASSERT_FALSE(device->online());
  EXPECT_FALSE(device->accept(Command{CommandKind::set, "relay", "1"}));
  EXPECT_FALSE(device->accept(Command{CommandKind::set, "fan", "2"}));
  EXPECT_FALSE(device->accept(Command{CommandKind::set, "relay", "0"})) << "the latest state wins";
  EXPECT_EQ(counter(*device, "refused_commands"), 0u);
  pty.plug();
  run_until([&] { return device->online(); });
  pty.release_slave();
  EXPECT_EQ(written(9), "R0\nfan=2\n");
  EXPECT_EQ(counter(*device, "commands"), 2u);
  // Unplugged and plugged in again: the same states once more, with the newest one set meanwhile.
  pty.unplug();
  run_until([&] { return !device->online(); });
  EXPECT_FALSE(device->accept(Command{CommandKind::set, "relay", "1"}));
  pty.plug();
  run_until([&] { return device->online(); });
  pty.release_slave();
  EXPECT_EQ(written(9), "R1\nfan=2\n");
  EXPECT_EQ(counter(*device, "commands"), 4u);
  // The register keeps each channel's latest value as it came (the firmware alone knows what it means).
  EXPECT_EQ(device->desired_state("relay"), "1");
  EXPECT_EQ(device->desired_state("fan"), "2");
  EXPECT_EQ(device->desired_state("led"), "");
}

TEST_F(SerialDeviceTest, RequestsWaitForTheirRepliesInOrderWhileReadingsFlow) {
  auto s = settings();
  s.request = RequestSettings{"^(OK|ERR)", 5s};
  create(s, recorder());
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "A?"}));
  EXPECT_FALSE(device->accept(Command{CommandKind::write, "", "B?"}));  // a write is a request too
  EXPECT_EQ(written(3), "A?\n") << "B? must wait until A? is answered";
  ASSERT_TRUE(pty.send("t=1\nOK a\n"));
  run_until([&] { return replies.size() >= 1 && !readings.empty(); });
  EXPECT_EQ(readings[0].channel, "t");
  EXPECT_EQ(replies[0].request, "A?");
  EXPECT_TRUE(replies[0].ok);
  EXPECT_EQ(replies[0].text, "OK a");
  EXPECT_EQ(written(3), "B?\n");
  ASSERT_TRUE(pty.send("ERR b\n"));
  run_until([&] { return replies.size() >= 2; });
  EXPECT_EQ(replies[1].request, "B?");
  EXPECT_TRUE(replies[1].ok);
  EXPECT_EQ(replies[1].text, "ERR b");
  EXPECT_EQ(counter(*device, "replies"), 2u);
}

TEST_F(SerialDeviceTest, ARequestWithoutReplyTimesOutAndTheNextGoesOn) {
  auto s = settings();
  s.request = RequestSettings{"^OK", 30ms};
  create(s, recorder());
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "A?"}));
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "B?"}));
  run_until([&] { return replies.size() >= 1; });
  EXPECT_FALSE(replies[0].ok);
  EXPECT_EQ(replies[0].text, "timeout");
  EXPECT_EQ(written(6), "A?\nB?\n");
  ASSERT_TRUE(pty.send("OK b\n"));
  run_until([&] { return replies.size() >= 2; });
  EXPECT_TRUE(replies[1].ok);
  EXPECT_EQ(counter(*device, "reply_timeouts"), 1u);
}

TEST_F(SerialDeviceTest, ARequestFailsAtOnceWhenThePortGoesAway) {
  auto s = settings();
  s.request = RequestSettings{"^OK", 5s};
  create(s, recorder());
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "A?"}));
  EXPECT_EQ(written(3), "A?\n");
  pty.unplug();
  run_until([&] { return !replies.empty(); });
  EXPECT_FALSE(replies[0].ok);
  EXPECT_EQ(replies[0].text, "device offline");
  EXPECT_FALSE(device->online());
  EXPECT_EQ(device->offline_reason(), std::errc::no_such_device);
  // A request while the port is closed is answered at once, as failed.
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "B?"}));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_FALSE(replies[1].ok);
}

TEST_F(SerialDeviceTest, TheQueueOfWaitingRequestsIsBounded) {
  auto s = settings();
  s.request = RequestSettings{"^OK", 5s};
  create(s, recorder());
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "first"}));  // in progress
  for (std::size_t i = 0; i < RequestQueue::kMaxWaiting; ++i) {
    EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "more"}));
  }
  EXPECT_EQ(device->accept(Command{CommandKind::request, "", "one too many"}), std::errc::no_buffer_space);
}

// The device goes away inside the Reply of a timed-out request (the timer's callback is on the stack, and
// the request coroutine is running): nothing of it may be touched afterwards, and the next request waiting
// is neither written nor answered.
TEST_F(SerialDeviceTest, DestroyedInsideItsOwnReplyCallback) {
  auto s = settings();
  s.request = RequestSettings{"^OK", 20ms};
  auto sink = recorder();
  sink.on_reply = [this](Reply&& r) {
    replies.push_back(std::move(r));
    device.reset();
    loop.stop();
  };
  create(s, std::move(sink));
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "A?"}));
  EXPECT_FALSE(device->accept(Command{CommandKind::request, "", "B?"}));
  run_until([&] { return device == nullptr; });
  loop.run_for(50ms);
  EXPECT_EQ(replies.size(), 1u);
  EXPECT_EQ(pty.receive(), "A?\n");
}

// The device goes away inside the first reading of a line of two: the second is not delivered. The port's
// data callback is on the stack, so this needs SerialPort to survive being destroyed inside its own
// callback (its deferred reaping, devices/serial/port.cpp).
TEST_F(SerialDeviceTest, DestroyedInsideItsOwnReadingCallback) {
  auto sink = recorder();
  sink.on_reading = [this](Reading&& r) {
    readings.push_back(std::move(r));
    device.reset();
    loop.stop();
  };
  create(settings(), std::move(sink));
  ASSERT_TRUE(pty.send("a=1 b=2\n"));
  run_until([&] { return device == nullptr; });
  loop.run_for(20ms);
  EXPECT_EQ(readings.size(), 1u);
}

}  // namespace
}  // namespace fg::devices::serial
