#include "quorum/disk_format_v1.hpp"

#include <string>

#include "storage/crc32.hpp"

namespace fg::quorum::disk_format::v1 {
namespace {

namespace rf = storage::record_format;
using rf::kHeaderBytes;

struct Record {
  const char* problem = nullptr;  // null when the record is intact
  std::size_t size = 0;
  std::string_view key;
  Versioned entry;
};

Record decode_record(std::string_view bytes) {
  Record record;
  if (bytes.size() < kRecordFixedBytes) {
    record.problem = "record cut short";
    return record;
  }
  std::size_t key_size = get_le<std::uint16_t>(bytes, 24);
  std::size_t value_size = get_le<std::uint32_t>(bytes, 26);
  // The lengths are checked before the CRC, so a damaged length never makes us hash megabytes of garbage.
  if (key_size > kMaxKeyBytes || value_size > kMaxValueBytes) {
    record.problem = "record length out of range";
    return record;
  }
  std::size_t size = kRecordFixedBytes + key_size + value_size;
  if (bytes.size() < size) {
    record.problem = "record cut short";
    return record;
  }
  if (get_le<std::uint32_t>(bytes, 0) != storage::crc32(bytes.substr(4, size - 4))) {
    record.problem = "record CRC mismatch";
    return record;
  }
  record.size = size;
  record.entry.tag = Tag{get_le<std::uint64_t>(bytes, 4), get_le<std::uint32_t>(bytes, 12),
                         get_le<std::uint64_t>(bytes, 16)};
  record.key = bytes.substr(kRecordFixedBytes, key_size);
  record.entry.value = std::string(bytes.substr(kRecordFixedBytes + key_size, value_size));
  return record;
}

// Whether an intact record starts anywhere in `bytes`: tells a torn tail from damage in the middle.
bool intact_record_within(std::string_view bytes) {
  for (std::size_t at = 0; at + kRecordFixedBytes <= bytes.size(); ++at) {
    if (decode_record(bytes.substr(at)).problem == nullptr) {
      return true;
    }
  }
  return false;
}

}  // namespace

DecodedSnapshot decode_snapshot(std::string_view file) {
  DecodedSnapshot result;
  result.version = 1;
  std::string_view body = file.substr(kHeaderBytes);
  if (body.size() < 8 + 4) {
    result.why = "cut short before its entry count";
    return result;
  }
  std::string_view covered = body.substr(0, body.size() - 4);
  if (get_le<std::uint32_t>(body, body.size() - 4) != storage::crc32(covered)) {
    result.why = "CRC mismatch (cut short or damaged)";
    return result;
  }
  std::uint64_t count = get_le<std::uint64_t>(covered, 0);
  std::size_t at = 8;
  for (std::uint64_t i = 0; i < count; ++i) {
    Record record = decode_record(covered.substr(at));
    if (record.problem) {
      result.why = "entry " + std::to_string(i) + ": " + record.problem;
      return result;
    }
    auto [it, inserted] = result.entries.try_emplace(std::string(record.key), std::move(record.entry));
    if (!inserted) {
      result.why = "key \"" + it->first + "\" appears twice";
      return result;
    }
    at += record.size;
  }
  if (at != covered.size()) {
    result.why = std::to_string(covered.size() - at) + " bytes after the last entry";
    return result;
  }
  result.ok = true;
  return result;
}

LogScan scan_log(std::string_view file, const EntryVisitor& visit) {
  LogScan scan;
  scan.version = 1;
  std::size_t at = kHeaderBytes;
  while (at < file.size()) {
    Record record = decode_record(file.substr(at));
    if (record.problem) {
      scan.stopped_by = record.problem;
      scan.tail = intact_record_within(file.substr(at + 1)) ? rf::Tail::corrupt : rf::Tail::torn;
      break;
    }
    visit(record.key, record.entry);
    at += record.size;
  }
  scan.intact_bytes = at;
  return scan;
}

DecodedEpoch decode_epoch(std::string_view file) {
  DecodedEpoch result;
  result.version = 1;
  constexpr std::size_t kFileBytes = kHeaderBytes + 8 + 4;
  if (file.size() != kFileBytes) {
    result.why = "size " + std::to_string(file.size()) + ", expected " + std::to_string(kFileBytes);
    return result;
  }
  std::string_view value = file.substr(kHeaderBytes, 8);
  if (get_le<std::uint32_t>(file, kHeaderBytes + 8) != storage::crc32(value)) {
    result.why = "CRC mismatch";
    return result;
  }
  result.epoch = get_le<std::uint64_t>(value, 0);
  result.ok = true;
  return result;
}

}  // namespace fg::quorum::disk_format::v1
