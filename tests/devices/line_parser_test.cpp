// The LineParser a port holds: one interface over the four line formats, with counters.

#include "devices/serial/line_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fg::devices::serial::test {
namespace {

using namespace std::string_literals;

TEST(LineParser, EachFormat) {
  auto raw = LineParser::create(RawParserConfig{"v"});
  auto kv = LineParser::create(KvParserConfig{});
  auto json = LineParser::create(JsonParserConfig{});
  auto regex = LineParser::create(RegexParserConfig{R"((?P<t>\d+))"});
  ASSERT_TRUE(raw && kv && json && regex);
  EXPECT_EQ(raw->parse("21")->fields.at(0).channel, "v");
  EXPECT_EQ(kv->parse("t=21")->fields.at(0).channel, "t");
  EXPECT_EQ(json->parse(R"({"t":21})")->fields.at(0).channel, "t");
  EXPECT_EQ(regex->parse("t 21")->fields.at(0).channel, "t");
}

TEST(LineParser, CountsLinesFieldsSkipsAndEachErrorKind) {
  auto json = LineParser::create(JsonParserConfig{});
  ASSERT_TRUE(json.has_value());
  EXPECT_TRUE(json->parse(R"({"a":1,"b":2,"n":null})").has_value());
  EXPECT_FALSE(json->parse("").has_value());
  EXPECT_FALSE(json->parse("{\0}"s).has_value());
  EXPECT_FALSE(json->parse("{\xFF}").has_value());
  EXPECT_FALSE(json->parse("{").has_value());
  EXPECT_FALSE(json->parse("[]").has_value());
  EXPECT_FALSE(json->parse("{}").has_value());
  const auto& c = json->counters();
  EXPECT_EQ(c.lines, 7u);
  EXPECT_EQ(c.parsed, 1u);
  EXPECT_EQ(c.fields, 2u);
  EXPECT_EQ(c.skipped, 1u);
  EXPECT_EQ(c.empty, 1u);
  EXPECT_EQ(c.nul_byte, 1u);
  EXPECT_EQ(c.invalid_utf8, 1u);
  EXPECT_EQ(c.syntax, 1u);
  EXPECT_EQ(c.not_an_object, 1u);
  EXPECT_EQ(c.no_fields, 1u);
  EXPECT_EQ(c.no_match, 0u);

  auto regex = LineParser::create(RegexParserConfig{R"(^(?P<t>\d+)$)"});
  ASSERT_TRUE(regex.has_value());
  EXPECT_FALSE(regex->parse("x").has_value());
  EXPECT_EQ(regex->counters().no_match, 1u);
}

TEST(LineParser, ConfigErrorsPassThrough) {
  const auto regex = LineParser::create(RegexParserConfig{"("});
  ASSERT_FALSE(regex.has_value());
  EXPECT_FALSE(regex.error().message.empty());
  EXPECT_FALSE(LineParser::create(RawParserConfig{""}).has_value());
  EXPECT_FALSE(LineParser::create(KvParserConfig{"=", "="}).has_value());
  EXPECT_FALSE(LineParser::create(JsonParserConfig{100}).has_value());
}

}  // namespace
}  // namespace fg::devices::serial::test
