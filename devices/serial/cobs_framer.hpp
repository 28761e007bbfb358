#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/frame.hpp"
#include "devices/serial/framer_counters.hpp"
#include "firmware/protocol/frame.h"

namespace fg::devices::serial {

struct CobsFramerConfig {
  // The largest payload accepted, in bytes, not counting the header and CRC of the frame.
  std::size_t max_payload = 256;

  bool operator==(const CobsFramerConfig&) const = default;
};

// Splits a byte stream into the COBS frames of firmware/protocol/frame.h and checks each one: frames
// that are empty, not valid COBS, shorter than a header and CRC, larger than max_payload, fail the CRC, or
// carry another protocol version are counted and dropped. Good frames reach the handler as their payload
// and type, without header and CRC.
//
// Frames are decoded as bytes arrive into a buffer of max_payload + 3 bytes; an oversized frame stops being
// stored at that point, so memory stays bounded however long a device goes without sending 0x00.
class CobsFramer {
 public:
  static constexpr std::size_t kMaxPayload = std::size_t{64} * 1024;

  static Expected<CobsFramer, ConfigError> create(CobsFramerConfig config, FrameHandler handler);

  void feed(std::span<const std::uint8_t> chunk);
  // Drops a partial frame; counted as discarded.
  void reset();

  const FramerCounters& counters() const noexcept { return counters_; }
  std::size_t buffer_capacity() const noexcept { return decoder_.cap; }

 private:
  CobsFramer(CobsFramerConfig config, FrameHandler handler);
  void end_frame();

  FrameHandler handler_;
  // A unique_ptr rather than a vector because decoder_ points into it, and that must survive moves.
  std::unique_ptr<std::uint8_t[]> buffer_;
  fg_cobs_decoder decoder_{};
  FramerCounters counters_;
};

}  // namespace fg::devices::serial
