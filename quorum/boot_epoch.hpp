#pragma once
// next_boot_epoch: this replica's boot epoch, a number that grows by one at every start and is never
// handed out twice, even across a crash. Writers put it into their tags (quorum/tag.hpp), so a write
// still in flight from before a restart and a new one after it never share a tag.
//
// The epoch lives in the file "epoch" (format in docs/quorum-disk-format.md). The incremented value is
// written back with Disk::replace before it is returned: if the process dies after using an epoch, the
// file already says so. A crash during the write leaves the old value, and that epoch was never returned.

#include <cstdint>
#include <expected>
#include <system_error>

#include "storage/disk.hpp"

namespace fg::quorum {

// A disk that lost its epoch file (a new SD card) must still never reuse an epoch it had before, or its
// peers would take its datagrams for replays (their windows remember the old epoch) and its tags could
// repeat. The caller therefore passes a floor for a new disk: the daemon uses the wall clock in
// milliseconds (Node refuses a clock that is obviously unset), which exceeds every epoch the lost disk
// handed out as long as the clock did not go back by more than the milliseconds between its first boot
// and its last. A disk that has the file ignores the floor: monotonic counting needs no clock.
//
// `new_disk_floor` (or 1 if it is 0) on a disk without an epoch file, otherwise the stored epoch plus one.
// Errors: the disk's errors; StateError::corrupt_epoch for a damaged file (no guessing: a guess could reuse
// an epoch); StateError::newer_format for a file of a newer format version; StateError::epoch_exhausted at
// 2^64-1.
std::expected<std::uint64_t, std::error_code> next_boot_epoch(storage::Disk& disk,
                                                              std::uint64_t new_disk_floor = 1);

// The next boot epoch as next_boot_epoch() gives it, but at least `at_least`, stored before it is
// returned. A running member whose peers remember a higher epoch of it (its state directory is new and
// its clock was behind: UdpTransport::on_epoch_behind) moves past that epoch with it.
std::expected<std::uint64_t, std::error_code> raise_boot_epoch(storage::Disk& disk, std::uint64_t at_least);

}  // namespace fg::quorum
