#pragma once
// disk_format_v1: the reader of format version 1 of a replica's state files, the register's own CRC
// framing before it moved onto storage/'s record files (version 2, quorum/disk_format.hpp). Kept only so
// a state directory written by an older build is read once and rewritten as version 2
// (open_replica_log); nothing writes version 1 any more. Layout: docs/quorum-disk-format.md.
//
//   record   = CRC u32 of the rest | counter u64 | writer u32 | epoch u64 | key length u16 |
//              value length u32 | key | value                               (30 + K + V bytes)
//   log      = header | record | record | ...
//   snapshot = header | entry count u64 | records sorted by key | CRC u32 of count and records
//   epoch    = header | epoch u64 | CRC u32 of the epoch's 8 bytes
//
// The 16-byte header is the same as version 2's (storage/record_format.hpp), so the callers check it and
// hand over only files whose header says version 1.

#include <string_view>

#include "quorum/disk_format.hpp"

namespace fg::quorum::disk_format::v1 {

inline constexpr std::size_t kRecordFixedBytes = 30;

// Each takes the whole file, whose header was found intact and of version 1.
DecodedSnapshot decode_snapshot(std::string_view file);
LogScan scan_log(std::string_view file, const EntryVisitor& visit);
DecodedEpoch decode_epoch(std::string_view file);

}  // namespace fg::quorum::disk_format::v1
