#include "quorum/boot_epoch.hpp"

#include <algorithm>
#include <limits>

#include "quorum/disk_format.hpp"

namespace fg::quorum {

namespace {

// The stored epoch plus one (or `new_disk_floor` without a file), raised to `at_least`, stored.
std::expected<std::uint64_t, std::error_code> advance(storage::Disk& disk, std::uint64_t new_disk_floor,
                                                      std::uint64_t at_least) {
  constexpr std::string_view kEpoch = "epoch";
  // A disk without an epoch file starts just below the floor, so its first epoch is the floor.
  std::uint64_t previous = new_disk_floor > 0 ? new_disk_floor - 1 : 0;
  auto bytes = disk.read(kEpoch);
  if (bytes) {
    disk_format::DecodedEpoch decoded = disk_format::decode_epoch(*bytes);
    if (decoded.header == storage::record_format::HeaderStatus::newer_version) {
      return std::unexpected(make_error_code(StateError::newer_format));
    }
    if (!decoded.ok) {
      return std::unexpected(make_error_code(StateError::corrupt_epoch));
    }
    previous = decoded.epoch;
  } else if (bytes.error() != std::errc::no_such_file_or_directory) {
    return std::unexpected(bytes.error());
  }
  if (previous == std::numeric_limits<std::uint64_t>::max()) {
    return std::unexpected(make_error_code(StateError::epoch_exhausted));
  }
  std::uint64_t next = std::max(previous + 1, at_least);
  if (std::error_code ec = disk.replace(kEpoch, disk_format::encode_epoch(next))) {
    return std::unexpected(ec);
  }
  return next;
}

}  // namespace

std::expected<std::uint64_t, std::error_code> next_boot_epoch(storage::Disk& disk,
                                                              std::uint64_t new_disk_floor) {
  return advance(disk, new_disk_floor, 0);
}

std::expected<std::uint64_t, std::error_code> raise_boot_epoch(storage::Disk& disk, std::uint64_t at_least) {
  return advance(disk, 1, at_least);
}

}  // namespace fg::quorum
