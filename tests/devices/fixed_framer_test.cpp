#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "devices/serial/fixed_framer.hpp"
#include "serial_test_util.hpp"

namespace fg::devices::serial::test {
namespace {

using Records = std::vector<std::string>;

FixedFramer make(Collected& out, std::size_t size) {
  auto framer = FixedFramer::create({size}, out.handler());
  EXPECT_TRUE(framer.has_value());
  return std::move(*framer);
}

TEST(FixedFramer, WholeRecordsInOneChunk) {
  Collected out;
  auto framer = make(out, 4);
  framer.feed(bytes("abcdefghij"));
  EXPECT_EQ(out.frames, (Records{"abcd", "efgh"}));
  framer.feed(bytes("kl"));
  EXPECT_EQ(out.frames, (Records{"abcd", "efgh", "ijkl"}));
  EXPECT_EQ(framer.counters().frames, 3u);
  EXPECT_EQ(framer.counters().bytes, 12u);
}

TEST(FixedFramer, RecordsAcrossChunksInEveryChunking) {
  std::mt19937 rng(17);
  const auto data = random_bytes(rng, 350);
  Records expected;
  for (std::size_t i = 0; i < data.size(); i += 7) {
    expected.push_back(to_string(std::span(data).subspan(i, 7)));
  }
  Collected byte_out;
  auto byte_framer = make(byte_out, 7);
  feed_byte_at_a_time(byte_framer, data);
  EXPECT_EQ(byte_out.frames, expected);
  for (std::size_t max_chunk : {2u, 6u, 7u, 8u, 15u, 100u}) {
    Collected out;
    auto framer = make(out, 7);
    feed_in_random_chunks(framer, data, rng, max_chunk);
    EXPECT_EQ(out.frames, expected) << "chunks up to " << max_chunk;
    EXPECT_LE(framer.buffer_capacity(), 7u);
  }
}

TEST(FixedFramer, BinaryBytesIncludingNul) {
  Collected out;
  auto framer = make(out, 3);
  framer.feed(bytes(std::string_view("\0\xff\x01\x00\x00\x00", 6)));
  EXPECT_EQ(out.frames, (Records{std::string("\0\xff\x01", 3), std::string(3, '\0')}));
}

TEST(FixedFramer, OneByteRecords) {
  Collected out;
  auto framer = make(out, 1);
  framer.feed(bytes("xyz"));
  EXPECT_EQ(out.frames, (Records{"x", "y", "z"}));
}

TEST(FixedFramer, ResetRealignsAfterALostByte) {
  Collected out;
  auto framer = make(out, 4);
  framer.feed(bytes("abc"));  // the fourth byte was lost on the line
  framer.reset();
  framer.feed(bytes("wxyz"));
  EXPECT_EQ(out.frames, (Records{"wxyz"}));
  EXPECT_EQ(framer.counters().discarded, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, 3u);
}

TEST(FixedFramer, ConfigErrors) {
  Collected out;
  EXPECT_FALSE(FixedFramer::create({0}, out.handler()).has_value());
  EXPECT_FALSE(FixedFramer::create({FixedFramer::kMaxRecordSize + 1}, out.handler()).has_value());
  EXPECT_TRUE(FixedFramer::create({FixedFramer::kMaxRecordSize}, out.handler()).has_value());
  EXPECT_FALSE(FixedFramer::create({4}, nullptr).has_value());
}

}  // namespace
}  // namespace fg::devices::serial::test
