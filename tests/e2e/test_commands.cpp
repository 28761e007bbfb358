// End to end: MQTT commands become bytes on the serial port. "<prefix>/<id>/<device>/write" writes the
// payload plus the device's write_terminator; "<...>/<channel>/set" writes the channel's set_format with
// {value} filled in; a COBS device gets each command as one COMMAND frame.

#include <cstdint>
#include <string>

#include "devices/serial/cobs_encoder.hpp"
#include "firmware/protocol/frame.h"
#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eCommands : public E2eTest {
 protected:
  // Publishes `payload` on `command_topic` and expects exactly `expected` on the device's pty master.
  void expect_command(test::PtyDevice& dev, const std::string& command_topic, const std::string& payload,
                      const std::string& expected) {
    ASSERT_TRUE(sub_->publish(command_topic, payload)) << command_topic;
    std::string got = read_exactly(dev.master_fd(), expected);
    EXPECT_EQ(escaped(got), escaped(expected))
        << "after " << command_topic << " \"" << payload << "\"" << diagnostics();
  }

  static std::string cobs_command(const std::string& text) {
    auto bytes = devices::serial::encode_cobs_frame(
        FG_FRAME_TYPE_COMMAND, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
    return std::string(bytes.begin(), bytes.end());
  }
};

TEST_F(E2eCommands, WriteSendsThePayloadAndTheWriteTerminator) {
  auto& crlf = add_device("crlf");
  auto& bare = add_device("bare");
  std::string config = config_head() + serial_head("crlf") + "write_terminator = \"\\r\\n\"\n" +
                       serial_head("bare") + "write_terminator = \"\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"crlf", "bare"}));

  expect_command(crlf, topic("crlf/write"), "HELLO 1", "HELLO 1\r\n");
  expect_command(crlf, topic("crlf/write"), "READ?", "READ?\r\n");
  expect_command(bare, topic("bare/write"), "AT+RST", "AT+RST");
  // Bytes that are not text go through as they are.
  expect_command(bare, topic("bare/write"), std::string("\x01\xff\x7f", 3), std::string("\x01\xff\x7f", 3));
}

TEST_F(E2eCommands, SetWritesTheChannelsSetFormat) {
  auto& dev = add_device("panel");
  std::string config = config_head() + serial_head("panel") +
                       "[serial.channels.led]\nkind = \"text\"\nset_format = \"LED={value}\"\n"
                       "[serial.channels.fan]\nkind = \"boolean\"\n"  // the default "{channel}={value}"
                       "[serial.channels.sp]\nset_format = \"SP {value:>6} ({channel})\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"panel"}));

  expect_command(dev, topic("panel/led/set"), "1", "LED=1\n");
  expect_command(dev, topic("panel/led/set"), "0", "LED=0\n");
  expect_command(dev, topic("panel/fan/set"), "on", "fan=on\n");
  expect_command(dev, topic("panel/sp/set"), "21.5", "SP   21.5 (sp)\n");
  // An unlisted channel takes the default format.
  expect_command(dev, topic("panel/pump/set"), "off", "pump=off\n");
}

TEST_F(E2eCommands, SetIsRefusedForAChannelWithAnEmptySetFormat) {
  auto& dev = add_device("meter");
  std::string config = config_head() + serial_head("meter") + "[serial.channels.energy]\nset_format = \"\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"meter"}));

  ASSERT_TRUE(sub_->publish(topic("meter/energy/set"), "0"));
  // The next command is the first thing the device sees: the refused one wrote nothing.
  expect_command(dev, topic("meter/write"), "NEXT", "NEXT\n");
  EXPECT_NE(log().find("command on " + topic("meter/energy/set") + " refused"), std::string::npos)
      << diagnostics();
}

TEST_F(E2eCommands, CobsDeviceGetsCommandFrames) {
  auto& dev = add_device("node");
  std::string config = config_head() + serial_head("node") +
                       "framing = \"cobs\"\nparser = \"json\"\n"
                       "[serial.channels.led]\nkind = \"text\"\nset_format = \"LED={value}\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"node"}));

  // No write_terminator with COBS: the frame is the unit.
  expect_command(dev, topic("node/write"), "RESET", cobs_command("RESET"));
  expect_command(dev, topic("node/led/set"), "1", cobs_command("LED=1"));
  // A zero byte in a command is escaped by COBS, not taken as the end of the frame.
  expect_command(dev, topic("node/write"), std::string("A\0B", 3), cobs_command(std::string("A\0B", 3)));
}

}  // namespace
}  // namespace fg::e2e
