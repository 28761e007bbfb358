#pragma once
// The byte layout of a datagram's payload (after the secure channel has authenticated and decrypted it):
//
//   u8 wire version (1), then one or more messages: u8 type, then the type's fields.
//   Integers are little-endian and fixed width; a key is u8 length + bytes, a value u16 length + bytes,
//   a tag is u64 counter, u32 writer, u64 epoch.
//
// decode() checks every length against what is left and rejects the whole payload on the first
// inconsistency (an unknown type, a short field, a key or value over its limit, trailing bytes), so a
// garbled datagram is dropped and counted, never half-applied. This header stays free of <expected>
// because the libFuzzer target includes it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "quorum/message.hpp"

namespace fg::quorum {

inline constexpr std::uint8_t kWireVersion = 1;

// Bytes `message` takes in a payload (excluding the payload's leading version byte).
std::size_t encoded_size(const Message& message);

// Appends `message` to `payload`, writing the version byte first if `payload` is empty.
void encode(const Message& message, std::vector<std::uint8_t>& payload);

// All messages of a payload, or nullopt if any part of it is malformed.
std::optional<std::vector<Message>> decode(std::span<const std::uint8_t> payload);

}  // namespace fg::quorum
