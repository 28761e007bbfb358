// End to end: device lines and frames become readings on <prefix>/<id>/<device>/<channel>, for every
// framing (line, fixed, cobs) and every parser (kv, json, regex, raw), with the JSON payload (value, unit,
// time, seq) or the bare value.

#include <cstdint>
#include <string>
#include <vector>

#include "devices/serial/cobs_encoder.hpp"
#include "firmware/protocol/frame.h"
#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eReadings : public E2eTest {
 protected:
  // One JSON reading: value, unit (left out when `unit` is empty), an RFC 3339 UTC time, and seq; no
  // other member.
  void expect_reading(const Json& reading, const Json& value, const std::string& unit, std::uint64_t seq) {
    SCOPED_TRACE(reading.dump());
    EXPECT_EQ(reading.value("value", Json()), value);
    if (unit.empty()) {
      EXPECT_FALSE(reading.contains("unit"));
    } else {
      EXPECT_EQ(reading.value("unit", ""), unit);
    }
    ASSERT_TRUE(reading.contains("time") && reading["time"].is_string());
    EXPECT_TRUE(IsRfc3339UtcNow(reading["time"].get<std::string>()));
    ASSERT_TRUE(reading.contains("seq") && reading["seq"].is_number_unsigned());
    EXPECT_EQ(reading["seq"].get<std::uint64_t>(), seq);
    EXPECT_EQ(reading.value("epoch", 0), 1) << "the first start of a new state_dir is boot epoch 1";
    EXPECT_EQ(reading.size(), unit.empty() ? 4u : 5u) << "unexpected members";
  }

  void expect_readings(const std::string& channel_topic, const std::vector<Json>& values,
                       const std::string& unit) {
    auto readings = wait_readings(channel_topic, values.size());
    ASSERT_EQ(readings.size(), values.size()) << channel_topic << diagnostics();
    for (std::size_t i = 0; i < values.size(); ++i) {
      SCOPED_TRACE(channel_topic + " reading " + std::to_string(i + 1));
      expect_reading(readings[i], values[i], unit, i + 1);
    }
  }
};

TEST_F(E2eReadings, LineKvNumbersWithUnitScaleOffsetAndConsecutiveSeq) {
  auto& dev = add_device("kv");
  std::string config = config_head() + serial_head("kv") +
                       "parser = \"kv\"\n"
                       "[serial.channels.t]\nunit = \"°C\"\n"
                       "[serial.channels.h]\nunit = \"%\"\nscale = 2.0\noffset = 1.0\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"kv"}));

  ASSERT_TRUE(dev.send("t=21.5 h=40 n=7\n"));
  ASSERT_TRUE(dev.send("t=22 h=41.5\nt=-3.25 h=0\n"));

  expect_readings(topic("kv/t"), {21.5, 22.0, -3.25}, "°C");
  expect_readings(topic("kv/h"), {81.0, 84.0, 1.0}, "%");  // raw x 2 + 1
  // An unlisted field: a number by automatic kind, no unit, its own seq.
  expect_readings(topic("kv/n"), {7.0}, "");
}

TEST_F(E2eReadings, LineJsonNumbersBooleansTextAndNestedObjects) {
  auto& dev = add_device("js");
  std::string config = config_head() + serial_head("js") +
                       "parser = \"json\"\n"
                       "[serial.channels.t]\nunit = \"°C\"\n"
                       "[serial.channels.ok]\nkind = \"boolean\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"js"}));

  ASSERT_TRUE(dev.send("{\"t\":21.5,\"ok\":true}\n"));
  ASSERT_TRUE(dev.send("{\"t\":21.75,\"ok\":false,\"bme\":{\"p\":1013.25},\"name\":\"pump\"}\n"));
  ASSERT_TRUE(dev.send("{\"t\":22,\"ok\":true}\n"));

  expect_readings(topic("js/t"), {21.5, 21.75, 22.0}, "°C");
  expect_readings(topic("js/ok"), {true, false, true}, "");
  expect_readings(topic("js/bme.p"), {1013.25}, "");  // nesting flattened with a dot
  expect_readings(topic("js/name"), {"pump"}, "");    // unlisted text stays text
}

// Unlisted channels: a JSON boolean is published as a boolean, and integers above 2^53 exactly, from kv text
// and from JSON alike (a double would publish 9007199254740992).
TEST_F(E2eReadings, UnlistedBooleansStayBooleansAndBigIntegersStayExact) {
  auto& kv = add_device("kv");
  auto& js = add_device("js");
  std::string config =
      config_head() + serial_head("kv") + "parser = \"kv\"\n" + serial_head("js") + "parser = \"json\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"kv", "js"}));
  ASSERT_TRUE(kv.send("n=9007199254740993 m=-9223372036854775808\n"));
  ASSERT_TRUE(js.send("{\"b\":true,\"n\":9007199254740993}\n"));
  for (const auto& [channel, value] :
       std::vector<std::pair<std::string, std::string>>{{"kv/n", "9007199254740993"},
                                                        {"kv/m", "-9223372036854775808"},
                                                        {"js/b", "true"},
                                                        {"js/n", "9007199254740993"}}) {
    auto payloads = wait_payloads(topic(channel), 1);
    ASSERT_EQ(payloads.size(), 1u) << channel << diagnostics();
    EXPECT_EQ(payloads[0].rfind("{\"value\":" + value + ",", 0), 0u) << channel << ": " << payloads[0];
  }
}

TEST_F(E2eReadings, LineRegexNamedGroupsBecomeChannels) {
  auto& dev = add_device("meter");
  std::string config = config_head() + serial_head("meter") +
                       "parser = \"regex\"\n"
                       "pattern = '^E=(?P<energy>\\d+\\.\\d+)kWh S=(?P<state>\\w+)$'\n"
                       "[serial.channels.energy]\nunit = \"kWh\"\n"
                       "[serial.channels.state]\nkind = \"text\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"meter"}));

  ASSERT_TRUE(dev.send("E=001234.5kWh S=run\n"));
  ASSERT_TRUE(dev.send("E=001235.0kWh S=idle\n"));
  ASSERT_TRUE(dev.send("this line does not match\n"));
  ASSERT_TRUE(dev.send("E=001236.25kWh S=run\n"));

  expect_readings(topic("meter/energy"), {1234.5, 1235.0, 1236.25}, "kWh");
  expect_readings(topic("meter/state"), {"run", "idle", "run"}, "");
}

TEST_F(E2eReadings, LineRawParserAndRawPayloadGiveTheBareValue) {
  auto& text_dev = add_device("rawline");
  auto& kv_dev = add_device("kvraw");
  std::string config = config_head() + serial_head("rawline") +
                       "parser = \"raw\"\nraw_channel = \"msg\"\npayload = \"raw\"\n" + serial_head("kvraw") +
                       "parser = \"kv\"\npayload = \"raw\"\n"
                       "[serial.channels.t]\nunit = \"°C\"\n"
                       "[serial.channels.sw]\nkind = \"boolean\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"rawline", "kvraw"}));

  ASSERT_TRUE(text_dev.send("  hello world  \nsecond line\n"));
  ASSERT_TRUE(kv_dev.send("t=21.5 sw=on\nt=22 sw=0\n"));

  EXPECT_EQ(wait_payloads(topic("rawline/msg"), 2), (std::vector<std::string>{"hello world", "second line"}))
      << diagnostics();
  EXPECT_EQ(wait_payloads(topic("kvraw/t"), 2), (std::vector<std::string>{"21.5", "22"})) << diagnostics();
  EXPECT_EQ(wait_payloads(topic("kvraw/sw"), 2), (std::vector<std::string>{"true", "false"}))
      << diagnostics();
}

TEST_F(E2eReadings, FixedRecordsSplitAcrossWritesWithScaleAndOffset) {
  auto& dev = add_device("tank");
  std::string config = config_head() + serial_head("tank") +
                       "framing = \"fixed\"\nrecord_size = 8\n"
                       "parser = \"raw\"\nraw_channel = \"level\"\n"
                       "[serial.channels.level]\nunit = \"cm\"\nscale = 0.5\noffset = -1.0\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"tank"}));

  // Three 8-byte records: 00000125, 00000250, 00001000; the second arrives in two pieces.
  ASSERT_TRUE(dev.send("000001250000"));
  ASSERT_TRUE(dev.send("025000001000"));

  expect_readings(topic("tank/level"), {61.5, 124.0, 499.0}, "cm");  // raw x 0.5 - 1
}

TEST_F(E2eReadings, CobsDataFramesWithJsonInside) {
  auto& dev = add_device("node");
  std::string config = config_head() + serial_head("node") +
                       "framing = \"cobs\"\nparser = \"json\"\n"
                       "[serial.channels.t]\nunit = \"°C\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"node"}));

  auto frame = [](std::uint8_t type, const std::string& text) {
    auto bytes = devices::serial::encode_cobs_frame(
        type, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
    return std::string(bytes.begin(), bytes.end());
  };
  std::string corrupted = frame(FG_FRAME_TYPE_DATA, "{\"t\":99,\"n\":99}");
  corrupted[corrupted.size() / 2] = static_cast<char>(corrupted[corrupted.size() / 2] == 'x' ? 'y' : 'x');

  ASSERT_TRUE(dev.send(frame(FG_FRAME_TYPE_DATA, "{\"t\":21.5,\"n\":1}")));
  ASSERT_TRUE(dev.send(frame(FG_FRAME_TYPE_REPLY, "{\"t\":50,\"n\":50}")));  // no reading: a reply frame
  ASSERT_TRUE(dev.send(corrupted));                                          // no reading: bad CRC
  ASSERT_TRUE(dev.send(frame(FG_FRAME_TYPE_DATA, "{\"t\":22.5,\"n\":2}") +
                       frame(FG_FRAME_TYPE_DATA, "{\"t\":23.5,\"n\":3}")));

  expect_readings(topic("node/t"), {21.5, 22.5, 23.5}, "°C");
  expect_readings(topic("node/n"), {1.0, 2.0, 3.0}, "");
  // Nothing more than those three arrived on either channel.
  EXPECT_EQ(sub_->on_topic(topic("node/t")).size(), 3u) << diagnostics();
}

}  // namespace
}  // namespace fg::e2e
