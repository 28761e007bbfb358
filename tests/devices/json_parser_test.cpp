#include "devices/serial/json_parser.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fg::devices::serial::test {
namespace {

using namespace std::string_literals;

Field number(std::string name, double v) {
  return Field{std::move(name), Value(std::in_place_type<double>, v)};
}
Field integer(std::string name, std::int64_t v) {
  return Field{std::move(name), Value(std::in_place_type<std::int64_t>, v)};
}
Field boolean(std::string name, bool v) {
  return Field{std::move(name), Value(std::in_place_type<bool>, v)};
}
Field text(std::string name, std::string_view v) {
  return Field{std::move(name), Value(std::in_place_type<std::string>, v)};
}

JsonParser make(std::size_t max_depth = 4) {
  auto parser = JsonParser::create({max_depth});
  EXPECT_TRUE(parser.has_value());
  return *parser;
}

TEST(JsonParser, FlatObjectInLineOrder) {
  const auto parsed = make().parse(R"({"t": 21.5, "h": 40, "ok": true, "id": "n1", "neg": -3e2})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{number("t", 21.5), integer("h", 40), boolean("ok", true),
                                                text("id", "n1"), number("neg", -300)}));
  EXPECT_EQ(parsed->skipped, 0u);
}

TEST(JsonParser, IntegersStayExactBeyondTwoToThe53) {
  const auto parsed =
      make().parse(R"({"n":9007199254740993,"m":-9223372036854775808,"big":18446744073709551615,"f":2.0})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{integer("n", 9007199254740993), integer("m", INT64_MIN),
                                                number("big", 18446744073709551615.0), number("f", 2.0)}));
}

TEST(JsonParser, NestedObjectsAndArraysFlattenWithADot) {
  const auto parsed = make().parse(R"({"bme":{"t":21.5,"h":{"rel":40}},"v":[1,{"x":false}]})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{number("bme.t", 21.5), integer("bme.h.rel", 40),
                                                integer("v.0", 1), boolean("v.1.x", false)}));
}

TEST(JsonParser, DeeperThanMaxDepthIsSkippedAndCounted) {
  auto parser = make(1);
  const auto parsed = parser.parse(R"({"a":1,"b":{"c":2,"d":{"e":3}},"f":[[4]]})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{integer("a", 1), integer("b.c", 2)}));
  EXPECT_EQ(parsed->skipped, 2u);  // b.d and f.0

  auto flat = make(0);
  const auto flat_parsed = flat.parse(R"({"a":1,"b":{"c":2}})");
  ASSERT_TRUE(flat_parsed.has_value());
  EXPECT_EQ(flat_parsed->fields, (std::vector<Field>{integer("a", 1)}));
  EXPECT_EQ(flat_parsed->skipped, 1u);
}

TEST(JsonParser, NullsEmptyKeysAndNulStringsSkippedAndCounted) {
  const auto parsed = make().parse(R"({"a":null,"":1,"s":"x\u0000y","k\u0000":2,"ok":3,"e":{},"l":[]})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{integer("ok", 3)}));
  EXPECT_EQ(parsed->skipped, 4u);  // empty containers give nothing and are not counted
}

TEST(JsonParser, EscapesDecode) {
  const auto parsed = make().parse(R"({"s":"21.5\u00b0C \"q\""})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{text("s",
                                                     "21.5\xC2\xB0"
                                                     "C \"q\"")}));
}

TEST(JsonParser, RepeatedKeyKeepsTheLastValue) {
  const auto parsed = make().parse(R"({"t":1,"t":2})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{integer("t", 2)}));
}

TEST(JsonParser, OnlyIntegersBeyond64BitsBecomeDoubles) {
  const auto parsed = make().parse(R"({"big":18446744073709551615,"small":-9223372036854775809})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{number("big", 18446744073709551615.0),
                                                number("small", -9223372036854775809.0)}));
}

TEST(JsonParser, BadLines) {
  auto parser = make();
  EXPECT_EQ(parser.parse("").error().kind, ParseErrorKind::empty);
  EXPECT_EQ(parser.parse("  \r").error().kind, ParseErrorKind::empty);
  EXPECT_EQ(parser.parse(R"({"t":21.5)").error().kind, ParseErrorKind::syntax);
  EXPECT_EQ(parser.parse(R"({"t":21.5} trailing)").error().kind, ParseErrorKind::syntax);
  EXPECT_EQ(parser.parse(R"({"t":1e999})").error().kind, ParseErrorKind::syntax);  // overflows a double
  EXPECT_EQ(parser.parse(R"({"t":NaN})").error().kind, ParseErrorKind::syntax);
  EXPECT_EQ(parser.parse(R"({"s":"\ud800"})").error().kind, ParseErrorKind::syntax);  // lone surrogate
  EXPECT_EQ(parser.parse("t=21.5").error().kind, ParseErrorKind::syntax);
  EXPECT_EQ(parser.parse("[1,2]").error().kind, ParseErrorKind::not_an_object);
  EXPECT_EQ(parser.parse("42").error().kind, ParseErrorKind::not_an_object);
  EXPECT_EQ(parser.parse("{}").error().kind, ParseErrorKind::no_fields);
  EXPECT_EQ(parser.parse(R"({"a":null})").error().kind, ParseErrorKind::no_fields);
  EXPECT_EQ(parser.parse("{\"t\":1}\0"s).error(), (ParseError{ParseErrorKind::nul_byte, 7}));
  EXPECT_EQ(parser.parse("{\"t\":\"\xC0\x80\"}").error(), (ParseError{ParseErrorKind::invalid_utf8, 6}));
}

TEST(JsonParser, DeepNestingDoesNotCrash) {
  const std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto parsed = make().parse(deep);
  EXPECT_FALSE(parsed.has_value());  // nothing at a depth we take
  EXPECT_EQ(parsed.error().kind, ParseErrorKind::no_fields);
}

TEST(JsonParser, MaxDepthLimit) {
  EXPECT_TRUE(JsonParser::create({JsonParser::kMaxDepth}).has_value());
  EXPECT_FALSE(JsonParser::create({JsonParser::kMaxDepth + 1}).has_value());
}

}  // namespace
}  // namespace fg::devices::serial::test
