// COBS and frame encoding of firmware/protocol/frame.h, below the framers.

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

#include "devices/serial/cobs_encoder.hpp"
#include "firmware/protocol/frame.h"
#include "frame_c99.h"
#include "serial_test_util.hpp"

namespace fg::devices::serial::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encode(const Bytes& in) {
  Bytes out(FG_COBS_MAX_ENCODED_SIZE(in.size()));
  const std::size_t n = fg_cobs_encode(in.data(), in.size(), out.data(), out.size());
  EXPECT_NE(n, 0u);
  out.resize(n);
  return out;
}

Bytes decode(const Bytes& in) {
  Bytes out(in.size());
  const std::size_t n = fg_cobs_decode(in.data(), in.size(), out.data(), out.size());
  EXPECT_NE(n, FG_COBS_ERROR);
  out.resize(n == FG_COBS_ERROR ? 0 : n);
  return out;
}

Bytes iota_bytes(std::uint8_t first, std::uint8_t last) {
  Bytes out(static_cast<std::size_t>(last - first) + 1);
  std::iota(out.begin(), out.end(), first);
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// The examples of Cheshire and Baker's paper as commonly tabulated.
TEST(Cobs, KnownVectors) {
  const std::vector<std::pair<Bytes, Bytes>> cases = {
      {{}, {0x01}},
      {{0x00}, {0x01, 0x01}},
      {{0x00, 0x00}, {0x01, 0x01, 0x01}},
      {{0x00, 0x11, 0x00}, {0x01, 0x02, 0x11, 0x01}},
      {{0x11, 0x22, 0x00, 0x33}, {0x03, 0x11, 0x22, 0x02, 0x33}},
      {{0x11, 0x22, 0x33, 0x44}, {0x05, 0x11, 0x22, 0x33, 0x44}},
      {{0x11, 0x00, 0x00, 0x00}, {0x02, 0x11, 0x01, 0x01, 0x01}},
      {iota_bytes(0x01, 0xFF), concat({{0xFF}, iota_bytes(0x01, 0xFE), {0x02, 0xFF}})},
      {concat({iota_bytes(0x02, 0xFF), {0x00}}), concat({{0xFF}, iota_bytes(0x02, 0xFF), {0x01, 0x01}})},
      {concat({iota_bytes(0x03, 0xFF), {0x00, 0x01}}),
       concat({{0xFE}, iota_bytes(0x03, 0xFF), {0x02, 0x01}})},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(encode(plain), encoded);
    EXPECT_EQ(decode(encoded), plain);
  }
}

// A run of 254 non-zero bytes at the end: this encoder closes the block with a trailing 0x01; the shorter
// form without it, which other encoders send, must decode to the same bytes.
TEST(Cobs, TrailingFullBlockBothForms) {
  const Bytes plain = iota_bytes(0x01, 0xFE);
  const Bytes ours = concat({{0xFF}, plain, {0x01}});
  const Bytes shorter = concat({{0xFF}, plain});
  EXPECT_EQ(encode(plain), ours);
  EXPECT_EQ(decode(ours), plain);
  EXPECT_EQ(decode(shorter), plain);
}

TEST(Cobs, RoundTripAllSizesWithRandomZeros) {
  std::mt19937 rng(42);
  for (std::size_t size = 0; size <= 1100; ++size) {
    Bytes plain = random_bytes(rng, size);
    // Half the inputs have no zeros at all, to exercise the 254-byte blocks.
    if (size % 2 == 0) {
      for (auto& b : plain) {
        b = b == 0 ? 1 : b;
      }
    }
    const Bytes encoded = encode(plain);
    ASSERT_LE(encoded.size(), FG_COBS_MAX_ENCODED_SIZE(size));
    ASSERT_EQ(std::count(encoded.begin(), encoded.end(), 0), 0) << "size " << size;
    ASSERT_EQ(decode(encoded), plain) << "size " << size;
  }
}

TEST(Cobs, DecodeInPlace) {
  std::mt19937 rng(3);
  const Bytes plain = random_bytes(rng, 700);
  Bytes buffer = encode(plain);
  const std::size_t n = fg_cobs_decode(buffer.data(), buffer.size(), buffer.data(), buffer.size());
  ASSERT_EQ(n, plain.size());
  buffer.resize(n);
  EXPECT_EQ(buffer, plain);
}

TEST(Cobs, DecodeRejectsInvalidInput) {
  Bytes out(16);
  const auto decode_error = [&](const Bytes& in) {
    return fg_cobs_decode(in.data(), in.size(), out.data(), out.size()) == FG_COBS_ERROR;
  };
  EXPECT_TRUE(decode_error({}));                        // empty
  EXPECT_TRUE(decode_error({0x03, 0x11}));              // block promises two bytes, has one
  EXPECT_TRUE(decode_error({0x02, 0x11, 0x05, 0x22}));  // second block truncated
  EXPECT_TRUE(decode_error({0x02, 0x00, 0x01}));        // a zero inside the encoding
  EXPECT_TRUE(decode_error(Bytes(18, 0x01)));           // 17 zeros do not fit in 16 bytes
  EXPECT_FALSE(decode_error(Bytes(17, 0x01)));          // 16 zeros do
}

TEST(Cobs, EncodeReportsTooSmallBuffer) {
  const Bytes plain = {0x11, 0x22, 0x00, 0x33};  // encodes to 5 bytes
  Bytes out(5);
  EXPECT_EQ(fg_cobs_encode(plain.data(), plain.size(), out.data(), 5), 5u);
  for (std::size_t cap = 0; cap < 5; ++cap) {
    EXPECT_EQ(fg_cobs_encode(plain.data(), plain.size(), out.data(), cap), 0u) << "cap " << cap;
  }
}

// The exact bytes on the wire, so a change to the format cannot slip through as a matching change on both
// ends of a round trip.
TEST(FrameEncode, GoldenBytes) {
  EXPECT_EQ(encode_cobs_frame(FG_FRAME_TYPE_DATA, bytes("t=1")),
            (Bytes{0x07, 0x10, 0x74, 0x3D, 0x31, 0xCE, 0x14, 0x00}));
  EXPECT_EQ(encode_cobs_frame(FG_FRAME_TYPE_COMMAND, {}), (Bytes{0x04, 0x11, 0xE3, 0xE0, 0x00}));
}

TEST(FrameEncode, CAndCppAgreeAndWorstCaseFits) {
  std::mt19937 rng(5);
  for (std::size_t size = 0; size <= 600; size += 7) {
    const Bytes payload = random_bytes(rng, size);
    const Bytes cpp = encode_cobs_frame(3, payload);
    Bytes c(FG_FRAME_MAX_WIRE_SIZE(size));
    const std::size_t n = fg_test_c99_frame_encode(3, payload.data(), payload.size(), c.data(), c.size());
    ASSERT_NE(n, 0u);
    c.resize(n);
    EXPECT_EQ(cpp, c);
    EXPECT_EQ(cpp.back(), 0x00);
    EXPECT_LE(cpp.size(), FG_FRAME_MAX_WIRE_SIZE(size));
  }
  // One byte short of the encoded size fails instead of writing past the end.
  const Bytes payload = random_bytes(rng, 40);
  const Bytes full = encode_cobs_frame(0, payload);
  Bytes out(full.size() - 1);
  EXPECT_EQ(fg_frame_encode(0, payload.data(), payload.size(), out.data(), out.size()), 0u);
}

TEST(FrameEncode, AppendKeepsWhatIsThere) {
  std::vector<std::uint8_t> out = {0xAA};
  append_cobs_frame(out, 0, bytes("x"));
  append_cobs_frame(out, 2, bytes("y"));
  const Bytes first = encode_cobs_frame(0, bytes("x"));
  const Bytes second = encode_cobs_frame(2, bytes("y"));
  EXPECT_EQ(out, concat({{0xAA}, first, second}));
}

TEST(FrameCheck, Statuses) {
  const Bytes good = decode(Bytes{0x07, 0x10, 0x74, 0x3D, 0x31, 0xCE, 0x14});
  EXPECT_EQ(fg_frame_check(good.data(), good.size()), FG_FRAME_OK);
  EXPECT_EQ(fg_frame_check(good.data(), 2), FG_FRAME_TOO_SHORT);
  Bytes bad_crc = good;
  bad_crc[2] ^= 0x01;
  EXPECT_EQ(fg_frame_check(bad_crc.data(), bad_crc.size()), FG_FRAME_BAD_CRC);
  // Version 2 with a CRC that matches: intact, but not ours.
  Bytes v2 = {0x20, 'x'};
  const std::uint16_t crc = fg_crc16(v2.data(), v2.size());
  v2.push_back(static_cast<std::uint8_t>(crc >> 8));
  v2.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  EXPECT_EQ(fg_frame_check(v2.data(), v2.size()), FG_FRAME_BAD_VERSION);
}

}  // namespace
}  // namespace fg::devices::serial::test
