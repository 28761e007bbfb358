// CRC-16/CCITT-FALSE of firmware/protocol/frame.h, in C++ and as compiled by a C99 compiler.

#include <gtest/gtest.h>

#include <random>

#include "firmware/protocol/frame.h"
#include "frame_c99.h"
#include "serial_test_util.hpp"

namespace fg::devices::serial::test {
namespace {

TEST(Crc16, CheckValueOf123456789) {
  const auto data = bytes("123456789");
  EXPECT_EQ(fg_crc16(data.data(), data.size()), 0x29B1);
  EXPECT_EQ(FG_CRC16_CHECK, 0x29B1u);
  EXPECT_EQ(fg_test_c99_crc16(data.data(), data.size()), 0x29B1);
}

TEST(Crc16, KnownValues) {
  // No input leaves the initial value; "A" is a widely published CCITT-FALSE vector.
  EXPECT_EQ(fg_crc16(nullptr, 0), 0xFFFF);
  const auto a = bytes("A");
  EXPECT_EQ(fg_crc16(a.data(), a.size()), 0xB915);
}

TEST(Crc16, UpdateInPiecesEqualsWhole) {
  std::mt19937 rng(7);
  const auto data = random_bytes(rng, 1000);
  const std::uint16_t whole = fg_crc16(data.data(), data.size());
  for (std::size_t split : {0u, 1u, 2u, 499u, 999u, 1000u}) {
    std::uint16_t crc = fg_crc16_update(FG_CRC16_INIT, data.data(), split);
    crc = fg_crc16_update(crc, data.data() + split, data.size() - split);
    EXPECT_EQ(crc, whole) << "split at " << split;
  }
  EXPECT_EQ(fg_test_c99_crc16(data.data(), data.size()), whole);
}

TEST(Crc16, EverySingleBitFlipChangesTheCrc) {
  std::mt19937 rng(11);
  auto data = random_bytes(rng, 64);
  const std::uint16_t good = fg_crc16(data.data(), data.size());
  for (std::size_t i = 0; i < data.size() * 8; ++i) {
    data[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    EXPECT_NE(fg_crc16(data.data(), data.size()), good) << "bit " << i;
    data[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
  }
}

}  // namespace
}  // namespace fg::devices::serial::test
