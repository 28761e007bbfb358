// convert(): a raw field value to the channel's kind, with scale and offset.

#include "devices/serial/channel_spec.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace fg::devices::serial::test {
namespace {

Value text(std::string_view s) {
  return Value(std::in_place_type<std::string>, s);
}
Value number(double d) {
  return Value(std::in_place_type<double>, d);
}
Value integer(std::int64_t i) {
  return Value(std::in_place_type<std::int64_t>, i);
}
Value boolean(bool b) {
  return Value(std::in_place_type<bool>, b);
}

ChannelSpec spec(ValueKind kind, double scale = 1.0, double offset = 0.0) {
  ChannelSpec s;
  s.name = "c";
  s.kind = kind;
  s.scale = scale;
  s.offset = offset;
  return s;
}

TEST(Convert, NumberFromText) {
  const auto n = spec(ValueKind::number);
  // Whole integers stay exact (64-bit) without scale and offset; anything with a point or exponent is a
  // double.
  const std::pair<std::string_view, Value> cases[] = {
      {"21.5", number(21.5)},
      {"-4", integer(-4)},
      {"+3.25", number(3.25)},
      {" 7 \r", integer(7)},
      {"1e3", number(1000)},
      {".5", number(0.5)},
      {"5.", number(5)},
      {"0", integer(0)},
      {"-0.0", number(0.0)},
      {"1013.25", number(1013.25)},
      {"9007199254740993", integer(9007199254740993)},
      {"+12", integer(12)},
      {"99999999999999999999", number(1e20)},
  };
  for (const auto& [in, out] : cases) {
    const auto v = convert(n, text(in));
    ASSERT_TRUE(v.has_value()) << in;
    EXPECT_EQ(*v, out) << in;
  }
}

TEST(Convert, NonNumericTextIsAnErrorNotACrash) {
  const auto n = spec(ValueKind::number);
  for (std::string_view bad : {"", " ", "abc", "21.5C", "21,5", "0x10", "1 2", "+-1", "++1", "+", "-", ".",
                               "e5", "1e", "--1", "\xC2\xB0"}) {
    const auto v = convert(n, text(bad));
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_EQ(v.error(), ConvertError::not_a_number) << bad;
  }
}

TEST(Convert, NonFiniteIsOutOfRange) {
  const auto n = spec(ValueKind::number);
  for (std::string_view bad : {"nan", "inf", "-infinity", "1e400"}) {
    const auto v = convert(n, text(bad));
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_EQ(v.error(), ConvertError::out_of_range) << bad;
  }
  EXPECT_EQ(convert(n, number(std::numeric_limits<double>::infinity())).error(), ConvertError::out_of_range);
  // Finite before scaling, infinite after.
  EXPECT_EQ(convert(spec(ValueKind::number, 1e300), text("1e300")).error(), ConvertError::out_of_range);
}

TEST(Convert, ScaleAndOffset) {
  // A sensor that reports tenths of a degree Fahrenheit, converted to degrees Celsius.
  const auto f_to_c = spec(ValueKind::number, 0.1 * 5.0 / 9.0, -32.0 * 5.0 / 9.0);
  const auto v = convert(f_to_c, text("985"));
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(std::get<double>(*v), 36.944, 1e-3);
  EXPECT_EQ(*convert(spec(ValueKind::number, 2, 1), number(10)), number(21));
  EXPECT_EQ(*convert(spec(ValueKind::number, 2, 1), boolean(true)), number(3));
  // Scale and offset apply to numbers only.
  EXPECT_EQ(*convert(spec(ValueKind::text, 2, 1), text("10")), text("10"));
}

TEST(Convert, Boolean) {
  const auto b = spec(ValueKind::boolean);
  for (std::string_view yes : {"true", "TRUE", "On", "yes", "1", " 1\r"}) {
    EXPECT_EQ(*convert(b, text(yes)), boolean(true)) << yes;
  }
  for (std::string_view no : {"false", "Off", "NO", "0"}) {
    EXPECT_EQ(*convert(b, text(no)), boolean(false)) << no;
  }
  EXPECT_EQ(*convert(b, number(1)), boolean(true));
  EXPECT_EQ(*convert(b, number(0)), boolean(false));
  EXPECT_EQ(*convert(b, boolean(true)), boolean(true));
  EXPECT_EQ(convert(b, number(2)).error(), ConvertError::not_a_boolean);
  EXPECT_EQ(convert(b, text("maybe")).error(), ConvertError::not_a_boolean);
  EXPECT_EQ(convert(b, text("")).error(), ConvertError::not_a_boolean);
}

TEST(Convert, Text) {
  const auto t = spec(ValueKind::text);
  EXPECT_EQ(*convert(t, text(" as is ")), text(" as is "));
  EXPECT_EQ(*convert(t, number(21.5)), text("21.5"));
  EXPECT_EQ(*convert(t, number(0.1)), text("0.1"));  // shortest form, not 0.1000000000000000055
  EXPECT_EQ(*convert(t, number(1e21)), text("1e+21"));
  EXPECT_EQ(*convert(t, boolean(false)), text("false"));
}

// A number becomes the text a number payload carries (fmt's "{}", gateway/payload.cpp): the shortest
// digits, fixed notation from 1e-4 up to (not including) 1e16, an exponent outside. These pin the format
// docs/topics.md describes; the values marked were written otherwise when text channels used std::to_chars.
TEST(Convert, NumberAsTextIsWrittenAsANumberPayloadIs) {
  const auto t = spec(ValueKind::text);
  const std::pair<double, std::string_view> cases[] = {
      {1e6, "1000000"},                        // to_chars: 1e+06
      {1e15, "1000000000000000"},              // to_chars: 1e+15
      {0.0001, "0.0001"},                      // to_chars: 1e-04
      {-2.5e-3, "-0.0025"},
      {1e16, "1e+16"},
      {1e-5, "1e-05"},
      {12345678901234567890.0, "1.2345678901234567e+19"},  // to_chars: 12345678901234567168
      {123.456, "123.456"},
      {-0.0, "-0"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
  };
  for (const auto& [value, expected] : cases) {
    EXPECT_EQ(*convert(t, number(value)), text(expected)) << expected;
  }
}

// Every text a number becomes reads back as exactly that double (std::from_chars, as a number channel
// parses it), across the whole range of doubles: a deterministic walk over bit patterns, both signs.
TEST(Convert, NumberAsTextReadsBackAsTheSameDouble) {
  const auto t = spec(ValueKind::text);
  std::uint64_t bits = 0x9e3779b97f4a7c15;
  for (int i = 0; i < 200000; ++i) {
    bits = bits * 6364136223846793005ULL + 1442695040888963407ULL;  // Knuth's MMIX LCG
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) {
      continue;
    }
    const std::string written = std::get<std::string>(*convert(t, number(value)));
    double read = 0;
    const auto [end, ec] = std::from_chars(written.data(), written.data() + written.size(), read);
    ASSERT_TRUE(ec == std::errc() && end == written.data() + written.size()) << written;
    ASSERT_EQ(std::memcmp(&read, &value, sizeof read), 0) << written;
  }
}

TEST(Convert, NumberPassesThrough) {
  EXPECT_EQ(*convert(spec(ValueKind::number), number(-1.5)), number(-1.5));
  EXPECT_EQ(*convert(spec(ValueKind::number), integer(INT64_MAX)), integer(INT64_MAX));
}

TEST(Convert, IntegersWithScaleOrOffsetBecomeDoubles) {
  EXPECT_EQ(*convert(spec(ValueKind::number, 2, 1), integer(10)), number(21));
  EXPECT_EQ(*convert(spec(ValueKind::number, 0.5), text("3")), number(1.5));
}

TEST(Convert, IntegersToBooleanAndText) {
  EXPECT_EQ(*convert(spec(ValueKind::boolean), integer(1)), boolean(true));
  EXPECT_EQ(*convert(spec(ValueKind::boolean), integer(0)), boolean(false));
  EXPECT_EQ(convert(spec(ValueKind::boolean), integer(2)).error(), ConvertError::not_a_boolean);
  EXPECT_EQ(*convert(spec(ValueKind::text), integer(9007199254740993)), text("9007199254740993"));
}

TEST(ConvertError, EveryErrorHasAName) {
  for (auto e : {ConvertError::not_a_number, ConvertError::not_a_boolean, ConvertError::out_of_range}) {
    EXPECT_NE(to_string(e), "unknown conversion error");
  }
}

}  // namespace
}  // namespace fg::devices::serial::test
