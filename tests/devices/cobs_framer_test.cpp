#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "devices/serial/cobs_encoder.hpp"
#include "devices/serial/cobs_framer.hpp"
#include "firmware/protocol/frame.h"
#include "serial_test_util.hpp"

namespace fg::devices::serial::test {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Frames = std::vector<std::string>;

CobsFramer make(Collected& out, std::size_t max_payload = 300) {
  auto framer = CobsFramer::create({max_payload}, out.handler());
  EXPECT_TRUE(framer.has_value());
  return std::move(*framer);
}

void append(Bytes& out, const Bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

TEST(CobsFramer, OneFrameWithType) {
  Collected out;
  auto framer = make(out);
  framer.feed(encode_cobs_frame(FG_FRAME_TYPE_REPLY, bytes("ok")));
  EXPECT_EQ(out.frames, (Frames{"ok"}));
  EXPECT_EQ(out.types, (std::vector<std::uint8_t>{FG_FRAME_TYPE_REPLY}));
  EXPECT_EQ(framer.counters().frames, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, 0u);
}

// Every payload size from 0 to 300, random bytes (zeros included), one stream: every frame comes out
// exactly, whether the stream arrives whole, byte at a time or in random chunks.
TEST(CobsFramer, RoundTripAllSizes0To300) {
  std::mt19937 rng(2024);
  Bytes stream;
  Frames expected;
  for (std::size_t size = 0; size <= 300; ++size) {
    const Bytes payload = random_bytes(rng, size);
    expected.push_back(to_string(payload));
    append(stream, encode_cobs_frame(FG_FRAME_TYPE_DATA, payload));
  }
  Collected whole;
  auto whole_framer = make(whole);
  whole_framer.feed(stream);
  EXPECT_EQ(whole.frames, expected);

  Collected single;
  auto single_framer = make(single);
  feed_byte_at_a_time(single_framer, stream);
  EXPECT_EQ(single.frames, expected);

  Collected chunked;
  auto chunked_framer = make(chunked);
  feed_in_random_chunks(chunked_framer, stream, rng, 97);
  EXPECT_EQ(chunked.frames, expected);
  EXPECT_EQ(chunked_framer.counters().frames, 301u);
  EXPECT_EQ(chunked_framer.counters().bytes, stream.size());
  EXPECT_EQ(chunked_framer.counters().dropped_bytes, 0u);
}

TEST(CobsFramer, RandomPayloadsRoundTrip) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<std::size_t> size(0, 256);
  for (int round = 0; round < 200; ++round) {
    const Bytes payload = random_bytes(rng, size(rng));
    const auto type = static_cast<std::uint8_t>(rng() % 16);
    Collected out;
    auto framer = make(out, 256);
    feed_in_random_chunks(framer, encode_cobs_frame(type, payload), rng, 40);
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0], to_string(payload));
    EXPECT_EQ(out.types[0], type);
  }
}

TEST(CobsFramer, CorruptedCrcRejectedAndCounted) {
  std::mt19937 rng(4);
  const Bytes payload = random_bytes(rng, 50);
  const Bytes good = encode_cobs_frame(0, payload);
  // Flip each bit of the encoded frame in turn, except in the delimiter. A flip that creates a 0x00 splits
  // the frame in two instead, and a flip in a code byte breaks the COBS structure; every flip is rejected
  // one way or another and none gets through.
  std::uint64_t crc_errors = 0;
  for (std::size_t bit = 0; bit < (good.size() - 1) * 8; ++bit) {
    Bytes bad = good;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    Collected out;
    auto framer = make(out);
    framer.feed(bad);
    framer.feed(good);  // the framer recovers at the next delimiter
    ASSERT_EQ(out.frames.size(), 1u) << "bit " << bit;
    EXPECT_EQ(out.frames[0], to_string(payload));
    const auto& c = framer.counters();
    EXPECT_GE(c.bad_crc + c.bad_cobs + c.too_short + c.empty + c.overlong, 1u) << "bit " << bit;
    crc_errors += c.bad_crc;
  }
  // Flips of data bytes can only be caught by the CRC.
  EXPECT_GE(crc_errors, 50u * 8u / 2u);
}

TEST(CobsFramer, CorruptedCrcByteCounted) {
  Bytes frame = encode_cobs_frame(0, bytes("t=21.5"));
  frame[frame.size() - 2] ^= 0x40;  // the CRC's low byte, not becoming zero
  ASSERT_NE(frame[frame.size() - 2], 0);
  Collected out;
  auto framer = make(out);
  framer.feed(frame);
  EXPECT_TRUE(out.frames.empty());
  EXPECT_EQ(framer.counters().bad_crc, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, frame.size());
}

TEST(CobsFramer, EmptyFramesCounted) {
  // A node may send a lone 0x00 after boot to end whatever partial frame the gateway holds.
  Collected out;
  auto framer = make(out);
  framer.feed(Bytes{0x00, 0x00});
  framer.feed(encode_cobs_frame(0, bytes("x")));
  EXPECT_EQ(out.frames, (Frames{"x"}));
  EXPECT_EQ(framer.counters().empty, 2u);
  EXPECT_EQ(framer.counters().dropped_bytes, 2u);
}

TEST(CobsFramer, BadCobsCounted) {
  Collected out;
  auto framer = make(out);
  framer.feed(Bytes{0x05, 0x11, 0x22, 0x00});  // the block promises four bytes, the delimiter comes after two
  EXPECT_TRUE(out.frames.empty());
  EXPECT_EQ(framer.counters().bad_cobs, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, 4u);
}

TEST(CobsFramer, TooShortCounted) {
  Collected out;
  auto framer = make(out);
  framer.feed(Bytes{0x01, 0x00});              // decodes to nothing
  framer.feed(Bytes{0x03, 0x10, 0x20, 0x00});  // decodes to two bytes: a header and half a CRC
  EXPECT_TRUE(out.frames.empty());
  EXPECT_EQ(framer.counters().too_short, 2u);
  EXPECT_EQ(framer.counters().empty, 0u);
}

TEST(CobsFramer, BadVersionCounted) {
  // Version 2, type 0, payload "x", with a correct CRC.
  Bytes frame = {0x20, 'x'};
  const std::uint16_t crc = fg_crc16(frame.data(), frame.size());
  frame.push_back(static_cast<std::uint8_t>(crc >> 8));
  frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  Bytes wire(FG_COBS_MAX_ENCODED_SIZE(frame.size()));
  wire.resize(fg_cobs_encode(frame.data(), frame.size(), wire.data(), wire.size()));
  wire.push_back(0x00);
  Collected out;
  auto framer = make(out);
  framer.feed(wire);
  EXPECT_TRUE(out.frames.empty());
  EXPECT_EQ(framer.counters().bad_version, 1u);
  EXPECT_EQ(framer.counters().bad_crc, 0u);
}

TEST(CobsFramer, MaxPayloadIsInclusive) {
  Collected out;
  auto framer = make(out, 10);
  framer.feed(encode_cobs_frame(0, bytes("0123456789")));
  framer.feed(encode_cobs_frame(0, bytes("0123456789A")));
  framer.feed(encode_cobs_frame(0, bytes("ok")));
  EXPECT_EQ(out.frames, (Frames{"0123456789", "ok"}));
  EXPECT_EQ(framer.counters().overlong, 1u);
}

TEST(CobsFramer, ZeroMaxPayloadTakesOnlyEmptyPayloads) {
  Collected out;
  auto framer = make(out, 0);
  framer.feed(encode_cobs_frame(1, {}));
  framer.feed(encode_cobs_frame(1, bytes("x")));
  EXPECT_EQ(out.frames, (Frames{""}));
  EXPECT_EQ(framer.counters().overlong, 1u);
}

TEST(CobsFramer, MegabyteWithoutDelimiterStaysBounded) {
  Collected out;
  auto framer = make(out, 64);
  EXPECT_EQ(framer.buffer_capacity(), 64u + FG_FRAME_OVERHEAD);
  std::mt19937 rng(12);
  Bytes junk = random_bytes(rng, 1 << 20);
  for (auto& b : junk) {
    b = b == 0 ? 0x55 : b;
  }
  feed_in_random_chunks(framer, junk, rng, 4096);
  framer.feed(Bytes{0x00});
  framer.feed(encode_cobs_frame(0, bytes("t=1")));
  EXPECT_EQ(out.frames, (Frames{"t=1"}));
  EXPECT_EQ(framer.counters().overlong, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, (1u << 20) + 1u);
  EXPECT_EQ(framer.buffer_capacity(), 64u + FG_FRAME_OVERHEAD);
}

TEST(CobsFramer, RecoversFromLineNoise) {
  std::mt19937 rng(8);
  Bytes stream = random_bytes(rng, 500);  // noise, zeros and all
  stream.push_back(0x00);
  append(stream, encode_cobs_frame(0, bytes("after noise")));
  Collected out;
  auto framer = make(out);
  feed_in_random_chunks(framer, stream, rng, 33);
  ASSERT_FALSE(out.frames.empty());
  EXPECT_EQ(out.frames.back(), "after noise");
}

TEST(CobsFramer, ResetDropsPartialFrame) {
  const Bytes frame = encode_cobs_frame(0, bytes("hello"));
  Collected out;
  auto framer = make(out);
  framer.feed(std::span(frame).first(4));
  framer.reset();
  framer.feed(frame);
  EXPECT_EQ(out.frames, (Frames{"hello"}));
  EXPECT_EQ(framer.counters().discarded, 1u);
  EXPECT_EQ(framer.counters().dropped_bytes, 4u);
  EXPECT_EQ(framer.counters().bad_cobs, 0u);
}

TEST(CobsFramer, SurvivesMove) {
  const Bytes frame = encode_cobs_frame(0, bytes("moved"));
  Collected out;
  auto first = make(out);
  first.feed(std::span(frame).first(3));
  CobsFramer second = std::move(first);
  second.feed(std::span(frame).subspan(3));
  EXPECT_EQ(out.frames, (Frames{"moved"}));
}

TEST(CobsFramer, ConfigErrors) {
  Collected out;
  EXPECT_FALSE(CobsFramer::create({CobsFramer::kMaxPayload + 1}, out.handler()).has_value());
  EXPECT_TRUE(CobsFramer::create({CobsFramer::kMaxPayload}, out.handler()).has_value());
  EXPECT_FALSE(CobsFramer::create({16}, nullptr).has_value());
}

}  // namespace
}  // namespace fg::devices::serial::test
