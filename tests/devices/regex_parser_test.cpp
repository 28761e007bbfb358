#include "devices/serial/regex_parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace fg::devices::serial::test {
namespace {

using namespace std::string_literals;

Field field(std::string name, std::string_view value) {
  return Field{std::move(name), Value(std::in_place_type<std::string>, value)};
}

RegexParser make(std::string pattern) {
  auto parser = RegexParser::create({std::move(pattern)});
  EXPECT_TRUE(parser.has_value()) << (parser.has_value() ? "" : parser.error().message);
  return std::move(*parser);
}

TEST(RegexParser, NamedGroupsBecomeFieldsInGroupOrder) {
  auto parser = make(R"(T:(?P<temp>-?[\d.]+)C H:(?P<hum>\d+)%)");
  const auto parsed = parser.parse("DHT T:-4.5C H:40% ok");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("temp", "-4.5"), field("hum", "40")}));
}

TEST(RegexParser, UnnamedGroupsAreIgnored) {
  auto parser = make(R"((\w+)=(?P<v>\d+))");
  const auto parsed = parser.parse("x=12");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("v", "12")}));
}

TEST(RegexParser, OptionalGroupThatDidNotTakePartGivesNoField) {
  auto parser = make(R"(^(?P<t>\d+)(?: bat=(?P<bat>\d+))?$)");
  const auto without = parser.parse("21");
  ASSERT_TRUE(without.has_value());
  EXPECT_EQ(without->fields, (std::vector<Field>{field("t", "21")}));
  const auto with = parser.parse("21 bat=90");
  ASSERT_TRUE(with.has_value());
  EXPECT_EQ(with->fields, (std::vector<Field>{field("t", "21"), field("bat", "90")}));
}

TEST(RegexParser, GroupMatchingEmptyGivesEmptyValue) {
  auto parser = make(R"(v=(?P<v>\d*);)");
  const auto parsed = parser.parse("v=;");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("v", "")}));
}

TEST(RegexParser, Utf8InPatternAndLine) {
  auto parser = make(R"((?P<t>[\d.]+)°C)");
  const auto parsed = parser.parse(
      "21.5\xC2\xB0"
      "C");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("t", "21.5")}));
}

TEST(RegexParser, BadLines) {
  auto parser = make(R"(^T=(?P<t>\d+)$)");
  EXPECT_EQ(parser.parse("T=x").error().kind, ParseErrorKind::no_match);
  EXPECT_EQ(parser.parse("T=1\r").error().kind, ParseErrorKind::no_match);  // $ is the end of the line
  EXPECT_EQ(parser.parse("").error().kind, ParseErrorKind::no_match);
  EXPECT_EQ(parser.parse("T=1\0"s).error(), (ParseError{ParseErrorKind::nul_byte, 3}));
  EXPECT_EQ(parser.parse("T=1\xFF").error(), (ParseError{ParseErrorKind::invalid_utf8, 3}));
}

TEST(RegexParser, CompileErrorsAreValuesWithRe2sMessage) {
  const auto unbalanced = RegexParser::create({"(?P<t>\\d+"});
  ASSERT_FALSE(unbalanced.has_value());
  EXPECT_NE(unbalanced.error().message.find("missing )"), std::string::npos) << unbalanced.error().message;

  const auto backreference = RegexParser::create({R"((?P<a>x)\1)"});
  ASSERT_FALSE(backreference.has_value());
  EXPECT_NE(backreference.error().message.find("escape"), std::string::npos) << backreference.error().message;

  const auto unnamed = RegexParser::create({R"((\d+))"});
  ASSERT_FALSE(unnamed.has_value());
  EXPECT_NE(unnamed.error().message.find("named group"), std::string::npos);
}

// \C matches one byte and could cut "é" in two, handing a channel invalid UTF-8 (found by the fuzzer).
TEST(RegexParser, RefusesTheAnyBytePatternThatCouldSplitACharacter) {
  for (const char* pattern : {R"((?P<v>\C))", R"((?P<v>a\C+))", R"(\Qx\E(?P<v>\C))"}) {
    const auto parser = RegexParser::create({pattern});
    ASSERT_FALSE(parser.has_value()) << pattern;
    EXPECT_NE(parser.error().message.find("\\C"), std::string::npos) << parser.error().message;
  }
  // A literal backslash before C, and \C quoted by \Q...\E, are ordinary text.
  for (const char* pattern : {R"((?P<v>\\C))", R"((?P<v>\Q\C\E))"}) {
    const auto parser = RegexParser::create({pattern});
    ASSERT_TRUE(parser.has_value()) << pattern << ": " << parser.error().message;
    EXPECT_EQ(parser->parse("x\\C").value().fields.at(0).value, Value(std::string("\\C")));
  }
}

// A pattern that takes exponential time in a backtracking engine on a line of a's with no match at the
// end; RE2 is linear. A generous bound keeps the test stable on a slow Pi under the sanitizers.
TEST(RegexParser, NoCatastrophicBacktracking) {
  auto parser = make(R"(^(?P<v>(a+)+)$)");
  const std::string line = std::string(5000, 'a') + "!";
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(parser.parse(line).error().kind, ParseErrorKind::no_match);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(RegexParser, SurvivesMove) {
  auto first = make(R"((?P<v>\d+))");
  RegexParser second = std::move(first);
  const auto parsed = second.parse("x 42");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("v", "42")}));
}

}  // namespace
}  // namespace fg::devices::serial::test
