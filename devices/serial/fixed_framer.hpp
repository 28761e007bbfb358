#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/frame.hpp"
#include "devices/serial/framer_counters.hpp"

namespace fg::devices::serial {

struct FixedFramerConfig {
  std::size_t record_size = 0;  // bytes per record; must be set

  bool operator==(const FixedFramerConfig&) const = default;
};

// Cuts a byte stream into records of record_size bytes.
//
// Known limit: the stream carries no marker, so after a lost or extra byte every later record is shifted
// until reset() is called. The port handle calls reset() when the port is (re)opened; a device that can
// lose bytes needs an inter-record gap timeout there, or the line or COBS framing.
class FixedFramer {
 public:
  static constexpr std::size_t kMaxRecordSize = std::size_t{64} * 1024;

  static Expected<FixedFramer, ConfigError> create(FixedFramerConfig config, FrameHandler handler);

  void feed(std::span<const std::uint8_t> chunk);
  // Drops a partial record; counted as discarded.
  void reset();

  const FramerCounters& counters() const noexcept { return counters_; }
  std::size_t buffer_capacity() const noexcept { return buffer_.capacity(); }

 private:
  FixedFramer(FixedFramerConfig config, FrameHandler handler);
  void emit(std::span<const std::uint8_t> record);

  std::size_t record_size_;
  FrameHandler handler_;
  std::vector<std::uint8_t> buffer_;  // the partial record; whole records in a chunk are not copied
  FramerCounters counters_;
};

}  // namespace fg::devices::serial
