#include "gateway/payload.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fg::gateway {
namespace {

using namespace std::chrono;

const system_clock::time_point kTime = sys_days(2026y / 11 / 23) + 19h + 43min + 23s + 123ms;

TEST(Payload, Rfc3339UtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339(kTime), "2026-11-23T19:43:23.123Z");
  EXPECT_EQ(format_rfc3339(kTime + 877ms), "2026-11-23T19:43:24.000Z");  // the per-second cache moves on
  EXPECT_EQ(format_rfc3339(kTime - 24h), "2026-11-22T19:43:23.123Z");    // and back
  EXPECT_EQ(format_rfc3339(kTime - 118ms), "2026-11-23T19:43:23.005Z");  // three digits, always
  EXPECT_EQ(format_rfc3339(kTime - 73ms), "2026-11-23T19:43:23.050Z");
  EXPECT_EQ(format_rfc3339(kTime + 876ms), "2026-11-23T19:43:23.999Z");
}

TEST(Payload, JsonNumberWithUnitTimeAndSeq) {
  Reading r{"weather", "t", 21.5, "°C", kTime, 17};
  EXPECT_EQ(json_payload(r), R"({"value":21.5,"unit":"°C","time":"2026-11-23T19:43:23.123Z","seq":17})");
}

TEST(Payload, JsonLeavesOutAnEmptyUnit) {
  Reading r{"door", "open", true, "", kTime, 1};
  EXPECT_EQ(json_payload(r), R"({"value":true,"time":"2026-11-23T19:43:23.123Z","seq":1})");
}

// A Pi without an RTC reads 1970 until NTP sets its clock: such a reading carries seq and no time.
TEST(Payload, JsonLeavesOutATimeBeforeTheClockIsSet) {
  Reading r{"weather", "t", 21.5, "°C", system_clock::time_point(42s), 3};
  EXPECT_EQ(json_payload(r), R"({"value":21.5,"unit":"°C","seq":3})");
  r.time = sys_days(2025y / 12 / 31) + 23h + 59min + 59s;  // just before the floor (2026-01-01)
  EXPECT_EQ(json_payload(r), R"({"value":21.5,"unit":"°C","seq":3})");
  r.time = sys_days(2026y / 1 / 1);
  EXPECT_EQ(json_payload(r), R"({"value":21.5,"unit":"°C","time":"2026-01-01T00:00:00.000Z","seq":3})");
}

TEST(Payload, JsonTextIsEscapedAndInvalidUtf8Replaced) {
  Reading r{"gps", "fix", std::string("a\"b\\c\n\xff"), "", kTime, 2};
  auto parsed = nlohmann::json::parse(json_payload(r));  // must be valid JSON
  EXPECT_EQ(parsed["value"], "a\"b\\c\n\xEF\xBF\xBD");   // U+FFFD for the invalid byte
  EXPECT_EQ(parsed["seq"], 2);
}

// Units are copied as they are when they need no escaping; anything else is escaped.
TEST(Payload, JsonUnitIsEscapedWhenItMustBe) {
  Reading r{"d", "c", 1.0, "in\"\\\x01\x7f", kTime, 1};
  auto parsed = nlohmann::json::parse(json_payload(r));
  EXPECT_EQ(parsed["unit"], "in\"\\\x01\x7f");
  r.unit = "m/s";
  EXPECT_EQ(json_payload(r), R"({"value":1,"unit":"m/s","time":"2026-11-23T19:43:23.123Z","seq":1})");
}

TEST(Payload, JsonIntegersSeqAndEpochAtTheirLimits) {
  Reading r{"d", "c", std::numeric_limits<std::int64_t>::min(), "", system_clock::time_point(42s),
            std::numeric_limits<std::uint64_t>::max()};
  EXPECT_EQ(json_payload(r, 18446744073709551614u),
            R"({"value":-9223372036854775808,"seq":18446744073709551615,"epoch":18446744073709551614})");
  r.value = std::int64_t{0};
  r.seq = 0;
  EXPECT_EQ(json_payload(r, 1), R"({"value":0,"seq":0,"epoch":1})");
}

TEST(Payload, JsonNumbersReadBackExactly) {
  for (double v : {0.1, 1e-300, 123456789.0, -2.5e17, 9007199254740991.0}) {
    Reading r{"d", "c", v, "", kTime, 1};
    EXPECT_EQ(nlohmann::json::parse(json_payload(r))["value"].get<double>(), v);
  }
}

TEST(Payload, NonFiniteNumberIsNullNotInvalidJson) {
  Reading r{"d", "c", std::numeric_limits<double>::infinity(), "", kTime, 1};
  EXPECT_TRUE(nlohmann::json::parse(json_payload(r))["value"].is_null());
}

TEST(Payload, RawForms) {
  EXPECT_EQ(raw_payload(21.5), "21.5");
  EXPECT_EQ(raw_payload(false), "false");
  EXPECT_EQ(raw_payload(std::string("OPEN")), "OPEN");
}

}  // namespace
}  // namespace fg::gateway
