#pragma once
// CRC-32 as zlib computes it (the ISO-HDLC / "zip" CRC, initial value 0): the checksum of every header and
// record in storage/'s files.

#include <cstdint>
#include <string_view>

namespace fg::storage {

std::uint32_t crc32(std::string_view bytes) noexcept;

}  // namespace fg::storage
