#include "devices/serial/kv_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fg::devices::serial::test {
namespace {

using namespace std::string_literals;

Field field(std::string name, std::string_view value) {
  return Field{std::move(name), Value(std::in_place_type<std::string>, value)};
}

KvParser make(KvParserConfig config = {}) {
  auto parser = KvParser::create(std::move(config));
  EXPECT_TRUE(parser.has_value());
  return std::move(*parser);
}

TEST(KvParser, WhitespaceBetweenPairs) {
  const auto parsed = make().parse("t=21.5 h=40\t p=1013.2\r");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("t", "21.5"), field("h", "40"), field("p", "1013.2")}));
  EXPECT_EQ(parsed->skipped, 0u);
}

TEST(KvParser, ValueKeepsLaterSeparators) {
  const auto parsed = make().parse("expr=a=b");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("expr", "a=b")}));
}

TEST(KvParser, EmptyValueIsAField) {
  const auto parsed = make().parse("t= h=40");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("t", ""), field("h", "40")}));
}

TEST(KvParser, PiecesWithoutSeparatorOrKeyAreSkippedAndCounted) {
  const auto parsed = make().parse("READY t=21.5 =5 h=40 junk");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("t", "21.5"), field("h", "40")}));
  EXPECT_EQ(parsed->skipped, 3u);
}

TEST(KvParser, RepeatedKeyGivesAFieldEachTime) {
  const auto parsed = make().parse("t=1 t=2");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("t", "1"), field("t", "2")}));
}

TEST(KvParser, ConfiguredSeparators) {
  auto parser = make({",", ":"});
  const auto parsed = parser.parse(" temp : 21.5 , hum:40,, status:ok go ");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields,
            (std::vector<Field>{field("temp", "21.5"), field("hum", "40"), field("status", "ok go")}));
  EXPECT_EQ(parsed->skipped, 0u);  // the empty piece between ",," is not counted
}

TEST(KvParser, MultiByteSeparators) {
  auto parser = make({"; ", ":="});
  const auto parsed = parser.parse("a:=1; b:=2");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("a", "1"), field("b", "2")}));
}

TEST(KvParser, Utf8KeysAndValues) {
  const auto parsed = make().parse("t\xC2\xB0=21,5\xE2\x84\x83");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("t\xC2\xB0", "21,5\xE2\x84\x83")}));
}

TEST(KvParser, BadLines) {
  auto parser = make();
  EXPECT_EQ(parser.parse("").error().kind, ParseErrorKind::empty);
  EXPECT_EQ(parser.parse(" \t\r").error().kind, ParseErrorKind::empty);
  EXPECT_EQ(parser.parse("READY").error().kind, ParseErrorKind::no_fields);
  EXPECT_EQ(parser.parse("t = 21.5").error().kind, ParseErrorKind::no_fields);  // the documented limit
  EXPECT_EQ(parser.parse("t=1\0 h=2"s).error(), (ParseError{ParseErrorKind::nul_byte, 3}));
  EXPECT_EQ(parser.parse("t=\xFF").error(), (ParseError{ParseErrorKind::invalid_utf8, 2}));
}

// logfmt-style quoting: a value that starts with a double quote runs to the closing quote, spaces and
// separators included; the quotes are not part of the value.
TEST(KvParser, QuotedValueKeepsSpaces) {
  const auto parsed = make().parse("q=\"hello world\" t=21.5 empty=\"\"");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields,
            (std::vector<Field>{field("q", "hello world"), field("t", "21.5"), field("empty", "")}));
  EXPECT_EQ(parsed->skipped, 0u);
}

TEST(KvParser, QuotedValueIsNotTrimmedAndMayHoldSeparators) {
  const auto parsed = make().parse("q=\"  a=b  c \"");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("q", "  a=b  c ")}));
}

TEST(KvParser, QuotedValueEscapes) {
  const auto parsed = make().parse(R"(q="say \"hi\"\\ \n\t\r!" p="C:\\temp")");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("q", "say \"hi\"\\ \n\t\r!"), field("p", "C:\\temp")}));
}

TEST(KvParser, QuotedValueWithConfiguredSeparators) {
  auto parser = make({",", ":"});
  const auto parsed = parser.parse(R"(status : "ok, go" , msg:"a:b",n:1)");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields,
            (std::vector<Field>{field("status", "ok, go"), field("msg", "a:b"), field("n", "1")}));
  EXPECT_EQ(parsed->skipped, 0u);
}

TEST(KvParser, QuoteInsideAnUnquotedValueIsText) {
  const auto parsed = make().parse(R"(size=5" name=a"b)");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fields, (std::vector<Field>{field("size", "5\""), field("name", "a\"b")}));
}

// A quoted value that does not end cleanly rejects the whole line, with the offset of the trouble: the
// opening quote of an unterminated value, the backslash of an unknown escape, the byte after a closing
// quote that is neither a separator nor the end. Truncating would publish a value the device never sent.
TEST(KvParser, BadQuotedValueRejectsTheLine) {
  auto parser = make();
  EXPECT_EQ(parser.parse(R"(t=1 q="hello world)").error(), (ParseError{ParseErrorKind::syntax, 6}));
  EXPECT_EQ(parser.parse(R"(q="ends in a backslash\")").error(), (ParseError{ParseErrorKind::syntax, 2}));
  EXPECT_EQ(parser.parse(R"(q="a\qb")").error(), (ParseError{ParseErrorKind::syntax, 4}));
  EXPECT_EQ(parser.parse(R"(q="a"b t=1)").error(), (ParseError{ParseErrorKind::syntax, 5}));
  EXPECT_EQ(parser.parse(R"(="a b)").error(), (ParseError{ParseErrorKind::syntax, 1}));  // even without a key
  auto commas = make({",", "="});
  EXPECT_EQ(commas.parse(R"(a="x" y,b=2)").error(), (ParseError{ParseErrorKind::syntax, 6}));
  EXPECT_TRUE(commas.parse(R"(a="x" ,b=2)").has_value());
}

TEST(KvParser, ConfigErrors) {
  EXPECT_FALSE(KvParser::create({"", ""}).has_value());
  EXPECT_FALSE(KvParser::create({",", ","}).has_value());
  EXPECT_FALSE(KvParser::create({" ", "="}).has_value());
  EXPECT_FALSE(KvParser::create({"", ": "}).has_value());
  EXPECT_TRUE(KvParser::create({",", ": "}).has_value());
}

}  // namespace
}  // namespace fg::devices::serial::test
