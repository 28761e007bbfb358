// The Framer that a port holds: one interface over the three framings.

#include "devices/serial/framer.hpp"

#include <gtest/gtest.h>

#include "devices/serial/cobs_encoder.hpp"
#include "serial_test_util.hpp"

namespace fg::devices::serial::test {
namespace {

using Frames = std::vector<std::string>;

TEST(Framer, LineMode) {
  Collected out;
  auto framer = Framer::create(LineFramerConfig{"\r\n", 32, true}, out.handler());
  ASSERT_TRUE(framer.has_value());
  framer->feed(bytes("a=1\r"));
  framer->feed(bytes("\nb=2\r\n"));
  EXPECT_EQ(out.frames, (Frames{"a=1", "b=2"}));
  EXPECT_EQ(framer->counters().frames, 2u);
  EXPECT_LE(framer->buffer_capacity(), 33u);
}

TEST(Framer, FixedMode) {
  Collected out;
  auto framer = Framer::create(FixedFramerConfig{2}, out.handler());
  ASSERT_TRUE(framer.has_value());
  framer->feed(bytes("abc"));
  framer->reset();
  framer->feed(bytes("de"));
  EXPECT_EQ(out.frames, (Frames{"ab", "de"}));
  EXPECT_EQ(framer->counters().discarded, 1u);
}

TEST(Framer, CobsMode) {
  Collected out;
  auto framer = Framer::create(CobsFramerConfig{32}, out.handler());
  ASSERT_TRUE(framer.has_value());
  framer->feed(encode_cobs_frame(2, bytes("pong")));
  EXPECT_EQ(out.frames, (Frames{"pong"}));
  EXPECT_EQ(out.types, (std::vector<std::uint8_t>{2}));
  EXPECT_EQ(framer->buffer_capacity(), 35u);
}

TEST(Framer, ConfigErrorsComeFromTheConcreteFramer) {
  Collected out;
  const auto line = Framer::create(LineFramerConfig{"", 32, true}, out.handler());
  ASSERT_FALSE(line.has_value());
  EXPECT_EQ(line.error().message, "line delimiter must not be empty");
  EXPECT_FALSE(Framer::create(FixedFramerConfig{0}, out.handler()).has_value());
  EXPECT_FALSE(Framer::create(CobsFramerConfig{1u << 20}, out.handler()).has_value());
}

}  // namespace
}  // namespace fg::devices::serial::test
