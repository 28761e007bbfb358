#pragma once
// CounterStore: a pulse counter's total, kept in the state directory so that a meter's count never goes
// back to 0 across restarts. One file per device, "<device>.count", replaced atomically and durably
// (storage::Disk::replace) when the device publishes its count (every `interval`) and when it stops.
//
// What a crash or a power cut costs: the pulses counted since the last save (at most one interval's).
// The file is one line, "fgcount 1 <count> <crc32 of the text before it, hex>\n"; a file that fails its
// check is reported and the count starts from 0 again, since no better number exists.

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <system_error>

#include "storage/disk.hpp"

namespace fg::devices::gpio {

class CounterStore {
 public:
  // The file of `device` on `disk` (which the store then owns).
  CounterStore(std::unique_ptr<storage::Disk> disk, std::string device);

  // The saved total: 0 when there is none yet; an error for a damaged file or a disk error.
  std::expected<std::uint64_t, std::error_code> load();
  std::error_code save(std::uint64_t count);

  // The file's text for a count (its format, for tests).
  static std::string encode(std::uint64_t count);
  static std::expected<std::uint64_t, std::error_code> decode(std::string_view text);

 private:
  std::unique_ptr<storage::Disk> disk_;
  std::string file_;
};

}  // namespace fg::devices::gpio
