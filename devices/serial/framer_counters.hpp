#pragma once

#include <cstdint>

namespace fg::devices::serial {

// What a framer has seen since it was created. All framers share this one struct so that status output has
// one shape; a counter a framing mode cannot produce stays 0.
struct FramerCounters {
  std::uint64_t bytes = 0;          // bytes fed
  std::uint64_t frames = 0;         // frames handed to the handler
  std::uint64_t dropped_bytes = 0;  // bytes thrown away with bad, empty or overlong frames (delimiters too)
  std::uint64_t empty = 0;          // line: empty lines skipped; cobs: 0x00 with nothing before it
  std::uint64_t overlong = 0;       // line: lines over max_length; cobs: frames over max_payload
  std::uint64_t bad_cobs = 0;       // cobs: invalid encoding (the delimiter came inside a block)
  std::uint64_t too_short = 0;      // cobs: decoded frame shorter than header and CRC
  std::uint64_t bad_crc = 0;        // cobs: CRC mismatch
  std::uint64_t bad_version = 0;    // cobs: intact frame with another protocol version
  std::uint64_t discarded = 0;      // frames or partial frames thrown away by reset()
};

}  // namespace fg::devices::serial
