// The firmware's number formatting and parsing (firmware/core/text.h): no printf on the AVR, so these
// carry every value the node reports and every number it accepts.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "firmware/core/text.h"

namespace {

std::string u32(std::uint32_t v) {
  char out[FG_TEXT_NUMBER_MAX];
  return std::string(out, fg_text_u32(out, v));
}

std::string fixed(std::int32_t v, std::uint8_t decimals) {
  char out[FG_TEXT_NUMBER_MAX];
  std::uint8_t n = fg_text_fixed(out, v, decimals);
  EXPECT_LE(n, FG_TEXT_NUMBER_MAX);
  return std::string(out, n);
}

bool parse(const std::string& text, std::uint32_t* out) {
  return fg_text_parse_u32(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), out) == 1;
}

TEST(FirmwareText, FormatsUnsignedNumbers) {
  EXPECT_EQ(u32(0), "0");
  EXPECT_EQ(u32(7), "7");
  EXPECT_EQ(u32(10), "10");
  EXPECT_EQ(u32(65535), "65535");
  EXPECT_EQ(u32(4294967295u), "4294967295");
}

TEST(FirmwareText, FormatsFixedPointNumbers) {
  EXPECT_EQ(fixed(2150, 2), "21.50");
  EXPECT_EQ(fixed(5, 2), "0.05");
  EXPECT_EQ(fixed(-5, 1), "-0.5");
  EXPECT_EQ(fixed(0, 3), "0.000");
  EXPECT_EQ(fixed(-1234, 0), "-1234");
  EXPECT_EQ(fixed(123, 0), "123");
  EXPECT_EQ(fixed(INT32_MIN, 0), "-2147483648");
  EXPECT_EQ(fixed(INT32_MAX, 9), "2.147483647");
  EXPECT_EQ(fixed(INT32_MIN, 9), "-2.147483648");
  EXPECT_EQ(fixed(1, 9), "0.000000001");
  EXPECT_EQ(fixed(-1, 9), "-0.000000001") << "the longest form: a sign, ten digits and a point";
  EXPECT_EQ(fixed(1, 200), "0.000000001") << "decimals above 9 are taken as 9";
}

TEST(FirmwareText, ParsesDecimalNumbers) {
  std::uint32_t v = 99;
  EXPECT_TRUE(parse("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse("86400000", &v));
  EXPECT_EQ(v, 86400000u);
  EXPECT_TRUE(parse("4294967295", &v));
  EXPECT_EQ(v, 4294967295u);
  EXPECT_TRUE(parse("0000000001", &v));
  EXPECT_EQ(v, 1u);
}

TEST(FirmwareText, RefusesEverythingElseAndLeavesTheValueAlone) {
  for (const char* bad : {"", "4294967296", "99999999999", "00000000001", "-1", "+1", " 1", "1 ", "1.5",
                          "1e3", "0x10", "abc", "12a"}) {
    std::uint32_t v = 42;
    EXPECT_FALSE(parse(bad, &v)) << '"' << bad << '"';
    EXPECT_EQ(v, 42u) << '"' << bad << '"';
  }
}

}  // namespace
