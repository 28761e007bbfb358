#include "devices/serial/raw_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fg::devices::serial::test {
namespace {

using namespace std::string_literals;

Value text(std::string_view s) {
  return Value(std::in_place_type<std::string>, s);
}

TEST(RawParser, WholeLineIsOneValue) {
  auto parser = RawParser::create({});
  ASSERT_TRUE(parser.has_value());
  const auto parsed = parser->parse("  21.5 C\r");
  ASSERT_TRUE(parsed.has_value());
  ASSERT_EQ(parsed->fields.size(), 1u);
  EXPECT_EQ(parsed->fields[0], (Field{"value", text("21.5 C")}));
  EXPECT_EQ(parsed->skipped, 0u);
}

TEST(RawParser, ConfiguredChannelName) {
  auto parser = RawParser::create({"weight"});
  ASSERT_TRUE(parser.has_value());
  const auto parsed = parser->parse("ST,GS,+0001.25kg");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields[0], (Field{"weight", text("ST,GS,+0001.25kg")}));
}

TEST(RawParser, Utf8Accepted) {
  auto parser = RawParser::create({});
  const auto parsed = parser->parse("21.5\xC2\xB0");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields[0].value, text("21.5\xC2\xB0"));
}

TEST(RawParser, BadLines) {
  auto parser = RawParser::create({});
  ASSERT_TRUE(parser.has_value());
  EXPECT_EQ(parser->parse("").error(), (ParseError{ParseErrorKind::empty, 0}));
  EXPECT_EQ(parser->parse(" \r").error(), (ParseError{ParseErrorKind::empty, 0}));
  EXPECT_EQ(parser->parse("21\0.5"s).error(), (ParseError{ParseErrorKind::nul_byte, 2}));
  EXPECT_EQ(parser->parse("21.5\xB0").error(), (ParseError{ParseErrorKind::invalid_utf8, 4}));
}

TEST(RawParser, EmptyChannelNameIsAConfigError) {
  EXPECT_FALSE(RawParser::create({""}).has_value());
}

}  // namespace
}  // namespace fg::devices::serial::test
