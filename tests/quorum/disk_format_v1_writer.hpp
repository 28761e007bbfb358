#pragma once
// A writer of format version 1 of the replica's state files, kept only in the tests: the build reads
// version 1 (quorum/disk_format_v1.hpp) and rewrites it as version 2, and these make the files an older
// build left behind, byte for byte as docs/quorum-disk-format.md describes them.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quorum/disk_format.hpp"
#include "storage/crc32.hpp"
#include "storage/record_format.hpp"

namespace fg::quorum::test_v1 {

inline std::string le(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
  return out;
}

inline std::string crc(std::string_view bytes) {
  return le(storage::crc32(bytes), 4);
}

inline std::string header(std::string_view magic) {
  return storage::record_format::encode_header(magic, 1);
}

inline std::string record(std::string_view key, const Versioned& entry) {
  std::string covered = le(entry.tag.counter, 8) + le(entry.tag.writer, 4) + le(entry.tag.epoch, 8) +
                        le(key.size(), 2) + le(entry.value.size(), 4) + std::string(key) + entry.value;
  return crc(covered) + covered;
}

inline std::string log(const std::vector<std::pair<std::string, Versioned>>& records) {
  std::string out = header(disk_format::kLogFormat.magic);
  for (const auto& [key, entry] : records) {
    out += record(key, entry);
  }
  return out;
}

inline std::string snapshot(const Entries& entries) {
  std::string body = le(entries.size(), 8);
  for (const auto& [key, entry] : entries) {
    body += record(key, entry);
  }
  return header(disk_format::kSnapshotFormat.magic) + body + crc(body);
}

inline std::string epoch(std::uint64_t value) {
  return header(disk_format::kEpochFormat.magic) + le(value, 8) + crc(le(value, 8));
}

}  // namespace fg::quorum::test_v1
