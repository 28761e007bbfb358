#pragma once
// disk_format: what a replica's state files ("snapshot", "log", "epoch") hold, described in
// docs/quorum-disk-format.md. Since format version 2 they are storage/'s record files
// (storage/record_format.hpp: a versioned header, then records each with its own length and CRC-32);
// this header says what the register puts in the records. Files of version 1, the register's own older
// framing, are still read (quorum/disk_format_v1.hpp) and rewritten as version 2 by open_replica_log().
// Pure functions over bytes, no I/O, so ReplicaLog and next_boot_epoch share one definition.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "quorum/tag.hpp"
#include "storage/little_endian.hpp"
#include "storage/record_format.hpp"

namespace fg::quorum {

// A replica's state: key -> the newest value it holds with its tag. Ordered, because a replica hands its
// entries to a restoring member page by page, each page starting after the last key of the one before.
using Entries = std::map<std::string, Versioned, std::less<>>;

// Errors of the durable state, beside the errno values the disk reports.
enum class StateError : int {
  newer_format = 1,  // a file written by a newer format version: refuse, touch nothing
  corrupt_epoch,     // the epoch file is damaged: refuse to guess an epoch
  key_too_large,     // a key longer than kMaxKeyBytes
  value_too_large,   // a value longer than kMaxValueBytes
  log_failed,        // an earlier write or sync of the log failed: reopen before writing again
  commit_pending,    // compaction asked for while appended records wait for commit()
  not_initialized,   // a snapshot asked for before the state was initialized
  epoch_exhausted,   // the boot epoch would wrap around
};
const std::error_category& state_category() noexcept;
inline std::error_code make_error_code(StateError e) noexcept {
  return {static_cast<int>(e), state_category()};
}

namespace disk_format {

inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::size_t kMaxKeyBytes = 255;
inline constexpr std::size_t kMaxValueBytes = std::size_t{64} * 1024;
// An entry's fixed part: counter u64, writer u32, epoch u64, key length u16 (then the key, then the value,
// whose length is what the record's length leaves).
inline constexpr std::size_t kEntryFixedBytes = 22;
inline constexpr std::uint32_t kMaxEntryBytes = kEntryFixedBytes + kMaxKeyBytes + kMaxValueBytes;

// The three kinds of file. The magics are those of version 1, whose 16-byte header had the same layout.
inline constexpr storage::FileFormat kLogFormat{
    .magic = "FGQLOG\n\n", .version = kVersion, .oldest_version = kVersion, .max_payload = kMaxEntryBytes};
inline constexpr storage::FileFormat kSnapshotFormat{
    .magic = "FGQSNAP\n", .version = kVersion, .oldest_version = kVersion, .max_payload = kMaxEntryBytes};
inline constexpr storage::FileFormat kEpochFormat{
    .magic = "FGQEPOC\n", .version = kVersion, .oldest_version = kVersion, .max_payload = 8};

// Little-endian fixed-width integers, as every version writes them.
using storage::get_le;
using storage::put_le;

// An error unless `key` and `value` fit an entry; never write what this rejects.
std::error_code check_entry_size(std::string_view key, std::string_view value) noexcept;

// Appends the payload of the entry (key, tag, value) to `out`. Precondition: check_entry_size() passed.
void append_entry(std::string& out, std::string_view key, const Versioned& entry);

struct DecodedEntry {
  bool ok = false;  // false: too short, or a key length beyond the payload or the limit
  Tag tag;
  std::string_view key;  // views into the payload
  std::string_view value;
};
DecodedEntry decode_entry(std::string_view payload) noexcept;

// A snapshot file: the header, a first record holding the entry count (u64), so that a file cut at a
// record boundary is told from a whole one, then one record per entry, sorted by key.
std::string encode_snapshot(const Entries& entries);

struct DecodedSnapshot {
  storage::record_format::HeaderStatus header = storage::record_format::HeaderStatus::ok;
  std::uint32_t version = 0;  // 1 or 2 when the header is ok
  bool ok = false;
  std::string why;  // what is wrong, when not ok
  Entries entries;
};
// Reads a snapshot of version 2 or 1.
DecodedSnapshot decode_snapshot(std::string_view bytes);

// What scan_log() found in a log file.
struct LogScan {
  storage::record_format::HeaderStatus header = storage::record_format::HeaderStatus::ok;
  std::uint32_t version = 0;       // 1 or 2 when the header is ok
  std::uint64_t intact_bytes = 0;  // the header and the intact entries: where the log can be cut
  // What follows them: clean, torn (what a crash while appending leaves) or corrupt (an intact record
  // after a bad one, or a record whose CRC holds but which is no entry: damage no crash of ours explains).
  storage::record_format::Tail tail = storage::record_format::Tail::clean;
  std::string stopped_by;  // why the scan stopped, when the tail is not clean
};
using EntryVisitor = std::function<void(std::string_view key, const Versioned& entry)>;
// Reads a log of version 2 or 1, calling `visit` for each intact entry in order and stopping at the first
// bad one (what follows damage is never trusted). `visit` is not called when the header is not ok.
LogScan scan_log(std::string_view bytes, const EntryVisitor& visit);

// An epoch file: the header and one record holding the epoch (u64).
std::string encode_epoch(std::uint64_t epoch);

struct DecodedEpoch {
  storage::record_format::HeaderStatus header = storage::record_format::HeaderStatus::ok;
  std::uint32_t version = 0;
  bool ok = false;
  std::string why;
  std::uint64_t epoch = 0;
};
// Reads an epoch file of version 2 or 1.
DecodedEpoch decode_epoch(std::string_view bytes);

}  // namespace disk_format
}  // namespace fg::quorum

template <>
struct std::is_error_code_enum<fg::quorum::StateError> : std::true_type {};
