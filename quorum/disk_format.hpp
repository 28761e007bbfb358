#pragma once
// disk_format: the byte layout of a replica's state files ("snapshot", "log", "epoch"), described in
// docs/quorum-disk-format.md. Pure functions over bytes, no I/O, so ReplicaLog and next_boot_epoch share
// one definition and a fuzz target can feed the decoders arbitrary input (this header therefore avoids
// <expected>: the fuzz build's libstdc++ lacks it).
//
// Every integer is little-endian with a fixed width. Every file starts with a 16-byte header: an 8-byte
// magic naming the kind of file, a u32 format version and a u32 CRC-32 (zlib's) of those 12 bytes.
// The header's layout is the one thing later versions must keep, so an old build can always tell a newer
// file from a damaged one.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "quorum/tag.hpp"

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

inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kMaxKeyBytes = 255;
inline constexpr std::size_t kMaxValueBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kHeaderBytes = 16;
// A record's fixed part: crc u32, counter u64, writer u32, epoch u64, key length u16, value length u32.
inline constexpr std::size_t kRecordFixedBytes = 30;
inline constexpr std::size_t kMaxRecordBytes = kRecordFixedBytes + kMaxKeyBytes + kMaxValueBytes;

enum class FileKind { snapshot, log, epoch };

// The header of a file of this kind, in this build's format version unless told otherwise (tests use
// that to make the files of a newer build).
std::string encode_header(FileKind kind, std::uint32_t version = kVersion);

enum class HeaderStatus {
  ok,
  torn,           // shorter than a header and a prefix of ours: a crash while the file was created
  bad_magic,      // not a file of this kind (or its first bytes are damaged)
  bad_crc,        // the header's CRC does not match
  bad_version,    // version 0, which no build writes
  newer_version,  // a valid header of a version this build does not know
};
struct HeaderCheck {
  HeaderStatus status = HeaderStatus::ok;
  std::uint32_t version = 0;  // set for ok and newer_version
};
HeaderCheck check_header(FileKind kind, std::string_view bytes) noexcept;
const char* describe(HeaderStatus status) noexcept;

// An error unless `key` and `value` fit a record; never write what this rejects.
std::error_code check_record_size(std::string_view key, std::string_view value) noexcept;

// Appends the record (key, tag, value) to `out`. Precondition: check_record_size() passed.
void append_record(std::string& out, std::string_view key, const Versioned& entry);

enum class RecordStatus {
  ok,
  truncated,   // the input ends inside the record (a torn tail, or a length field that is damaged)
  bad_length,  // a length beyond the limits: not a record we wrote
  bad_crc,     // complete, but its CRC does not match
};
struct DecodedRecord {
  RecordStatus status = RecordStatus::truncated;
  std::size_t size = 0;  // bytes the record takes, when ok
  std::string_view key;  // views into the input, when ok
  std::string_view value;
  Tag tag;
};
// Decodes the record at the start of `bytes`.
DecodedRecord decode_record(std::string_view bytes) noexcept;
const char* describe(RecordStatus status) noexcept;

// A snapshot file: header, u64 entry count, the entries as records sorted by key, and a u32 CRC of
// everything between the header and that CRC.
std::string encode_snapshot(const Entries& entries);

struct DecodedSnapshot {
  HeaderStatus header = HeaderStatus::ok;
  std::uint32_t version = 0;
  bool ok = false;
  std::string why;  // what is wrong, when not ok
  Entries entries;
};
DecodedSnapshot decode_snapshot(std::string_view bytes);

// An epoch file: header, u64 epoch, u32 CRC of that u64's 8 bytes.
inline constexpr std::size_t kEpochFileBytes = kHeaderBytes + 8 + 4;
std::string encode_epoch(std::uint64_t epoch);

struct DecodedEpoch {
  HeaderStatus header = HeaderStatus::ok;
  bool ok = false;
  std::string why;
  std::uint64_t epoch = 0;
};
DecodedEpoch decode_epoch(std::string_view bytes);

}  // namespace disk_format
}  // namespace fg::quorum

template <>
struct std::is_error_code_enum<fg::quorum::StateError> : std::true_type {};
