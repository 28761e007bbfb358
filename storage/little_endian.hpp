#pragma once
// Little-endian integers in byte strings: how every record format kept on storage/ writes its numbers
// (record headers here, the MQTT spool's records, the gateway's seq checkpoint), so that a file written
// on one Pi reads on any other.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fg::storage {

// Appends `value`, sizeof(T) bytes, least significant first.
// One append, not a push_back per byte: the spool writes a few of these per reading.
template <typename T>
void put_le(std::string& out, T value) {
  char bytes[sizeof(T)];
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    bytes[i] = static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  out.append(bytes, sizeof(T));
}
// Reads a T at `at`. Precondition: at + sizeof(T) <= bytes.size().
template <typename T>
T get_le(std::string_view bytes, std::size_t at) noexcept {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<T>(static_cast<std::uint8_t>(bytes[at + i])) << (8 * i));
  }
  return value;
}

inline void put_u32(std::string& out, std::uint32_t value) { put_le(out, value); }
inline void put_u64(std::string& out, std::uint64_t value) { put_le(out, value); }
inline std::uint32_t get_u32(std::string_view bytes, std::size_t at = 0) noexcept {
  return get_le<std::uint32_t>(bytes, at);
}
inline std::uint64_t get_u64(std::string_view bytes, std::size_t at = 0) noexcept {
  return get_le<std::uint64_t>(bytes, at);
}

}  // namespace fg::storage
