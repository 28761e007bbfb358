// The text policy shared by the line parsers: NUL bytes and invalid UTF-8 reject the line.

#include "devices/serial/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fg::devices::serial::test {
namespace {

using namespace std::string_literals;

TEST(CheckText, AcceptsAsciiAndValidUtf8) {
  EXPECT_FALSE(check_text(""));
  EXPECT_FALSE(check_text("t=21.5 h=40\r"));
  EXPECT_FALSE(
      check_text("temp=21.5\xC2\xB0"
                 "C"));                          // U+00B0 degree sign
  EXPECT_FALSE(check_text("\xE2\x82\xAC"));      // U+20AC euro sign
  EXPECT_FALSE(check_text("\xF0\x9F\x8C\xA1"));  // U+1F321 thermometer
  EXPECT_FALSE(check_text("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_FALSE(check_text("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  EXPECT_FALSE(check_text("\x1b[0m\x7f"));       // other control characters pass
}

TEST(CheckText, RejectsNulWithItsOffset) {
  const auto bad = check_text("ab\0cd"s);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->kind, ParseErrorKind::nul_byte);
  EXPECT_EQ(bad->offset, 2u);
}

TEST(CheckText, RejectsInvalidUtf8WithItsOffset) {
  const std::pair<std::string, std::size_t> cases[] = {
      {"\x80", 0},              // a continuation byte on its own
      {"ok\xC3", 2},            // a sequence cut short at the end
      {"\xC3(", 0},             // a lead byte followed by ASCII
      {"\xC0\xAF", 0},          // overlong '/'
      {"\xC1\xBF", 0},          // overlong
      {"\xE0\x80\xAF", 0},      // overlong, three bytes
      {"\xF0\x80\x80\xAF", 0},  // overlong, four bytes
      {"x\xED\xA0\x80", 1},     // U+D800, a UTF-16 surrogate
      {"\xF4\x90\x80\x80", 0},  // U+110000, past the last code point
      {"\xF5\x80\x80\x80", 0},  // a lead byte that never occurs
      {"\xFF", 0},
      {"\xE2\x82", 0},         // truncated euro sign
      {"abc\xE2\x82\x41", 3},  // a bad continuation byte
  };
  for (const auto& [text, offset] : cases) {
    const auto bad = check_text(text);
    ASSERT_TRUE(bad) << text;
    EXPECT_EQ(bad->kind, ParseErrorKind::invalid_utf8) << text;
    EXPECT_EQ(bad->offset, offset) << text;
  }
}

TEST(TrimSpace, StripsAsciiWhitespaceOnly) {
  EXPECT_EQ(trim_space(" \t\r\n\v\fx y\r\n"), "x y");
  EXPECT_EQ(trim_space("   "), "");
  EXPECT_EQ(trim_space(""), "");
  EXPECT_EQ(trim_space("\xC2\xA0x"), "\xC2\xA0x");  // U+00A0 no-break space stays
}

TEST(ParseErrorKind, EveryKindHasAName) {
  for (auto kind :
       {ParseErrorKind::empty, ParseErrorKind::nul_byte, ParseErrorKind::invalid_utf8, ParseErrorKind::syntax,
        ParseErrorKind::not_an_object, ParseErrorKind::no_fields, ParseErrorKind::no_match}) {
    EXPECT_NE(to_string(kind), "unknown parse error");
  }
}

}  // namespace
}  // namespace fg::devices::serial::test
