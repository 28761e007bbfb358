#include "storage/crc32.hpp"

#include <zlib.h>

namespace fg::storage {

std::uint32_t crc32(std::string_view bytes) noexcept {
  // crc32_z takes a size_t length, so a record over 4 GiB would still be hashed whole.
  return static_cast<std::uint32_t>(
      ::crc32_z(::crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

}  // namespace fg::storage
