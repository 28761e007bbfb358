#include "quorum/disk_format.hpp"

#include <zlib.h>

#include <string>

namespace fg::quorum {
namespace {

class StateCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quorum-state"; }

  std::string message(int value) const override {
    switch (static_cast<StateError>(value)) {
      case StateError::newer_format:
        return "state file written by a newer format version; refusing to open it (run a newer build)";
      case StateError::corrupt_epoch:
        return "boot epoch file is corrupt; refusing to guess an epoch";
      case StateError::key_too_large:
        return "key longer than 255 bytes";
      case StateError::value_too_large:
        return "value longer than 64 KiB";
      case StateError::log_failed:
        return "an earlier write or sync of the replica log failed; reopen the state before writing";
      case StateError::commit_pending:
        return "appended records wait for commit(); commit before compacting";
      case StateError::not_initialized:
        return "replica state is not initialized";
      case StateError::epoch_exhausted:
        return "boot epoch would wrap around";
    }
    return "unknown quorum state error";
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<StateError>(value)) {
      case StateError::key_too_large:
      case StateError::value_too_large:
        return std::errc::value_too_large;
      case StateError::newer_format:
        return std::errc::not_supported;
      default:
        return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& state_category() noexcept {
  static const StateCategory category;
  return category;
}

namespace disk_format {
namespace {

std::uint32_t crc32_of(std::string_view bytes) noexcept {
  return static_cast<std::uint32_t>(
      ::crc32_z(::crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

template <typename T>
void put(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i))));
  }
}

// Reads a little-endian T at `at`. Precondition: at + sizeof(T) <= bytes.size().
template <typename T>
T get(std::string_view bytes, std::size_t at) noexcept {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<T>(static_cast<std::uint8_t>(bytes[at + i])) << (8 * i));
  }
  return value;
}

std::string_view magic_of(FileKind kind) noexcept {
  // Exactly eight bytes each.
  switch (kind) {
    case FileKind::snapshot:
      return "FGQSNAP\n";
    case FileKind::log:
      return "FGQLOG\n\n";
    case FileKind::epoch:
      return "FGQEPOC\n";
  }
  return "????????";
}

}  // namespace

std::string encode_header(FileKind kind, std::uint32_t version) {
  std::string out(magic_of(kind));
  put<std::uint32_t>(out, version);
  put<std::uint32_t>(out, crc32_of(out));
  return out;
}

HeaderCheck check_header(FileKind kind, std::string_view bytes) noexcept {
  std::string_view magic = magic_of(kind);
  if (bytes.size() < kHeaderBytes) {
    std::string ours = encode_header(kind);
    return {std::string_view(ours).starts_with(bytes) ? HeaderStatus::torn : HeaderStatus::bad_magic, 0};
  }
  if (bytes.substr(0, magic.size()) != magic) {
    return {HeaderStatus::bad_magic, 0};
  }
  if (get<std::uint32_t>(bytes, 12) != crc32_of(bytes.substr(0, 12))) {
    return {HeaderStatus::bad_crc, 0};
  }
  std::uint32_t version = get<std::uint32_t>(bytes, 8);
  if (version == 0) {
    return {HeaderStatus::bad_version, 0};
  }
  return {version > kVersion ? HeaderStatus::newer_version : HeaderStatus::ok, version};
}

const char* describe(HeaderStatus status) noexcept {
  switch (status) {
    case HeaderStatus::ok:
      return "ok";
    case HeaderStatus::torn:
      return "header cut short";
    case HeaderStatus::bad_magic:
      return "bad magic";
    case HeaderStatus::bad_crc:
      return "header CRC mismatch";
    case HeaderStatus::bad_version:
      return "format version 0";
    case HeaderStatus::newer_version:
      return "newer format version";
  }
  return "unknown header status";
}

std::error_code check_record_size(std::string_view key, std::string_view value) noexcept {
  if (key.size() > kMaxKeyBytes) {
    return StateError::key_too_large;
  }
  if (value.size() > kMaxValueBytes) {
    return StateError::value_too_large;
  }
  return {};
}

void append_record(std::string& out, std::string_view key, const Versioned& entry) {
  std::size_t start = out.size();
  put<std::uint32_t>(out, 0);  // The CRC, filled in below.
  put<std::uint64_t>(out, entry.tag.counter);
  put<std::uint32_t>(out, entry.tag.writer);
  put<std::uint64_t>(out, entry.tag.epoch);
  put<std::uint16_t>(out, static_cast<std::uint16_t>(key.size()));
  put<std::uint32_t>(out, static_cast<std::uint32_t>(entry.value.size()));
  out.append(key);
  out.append(entry.value);
  std::uint32_t crc = crc32_of(std::string_view(out).substr(start + 4));
  for (std::size_t i = 0; i < 4; ++i) {
    out[start + i] = static_cast<char>(static_cast<std::uint8_t>(crc >> (8 * i)));
  }
}

DecodedRecord decode_record(std::string_view bytes) noexcept {
  DecodedRecord record;
  if (bytes.size() < kRecordFixedBytes) {
    record.status = RecordStatus::truncated;
    return record;
  }
  std::size_t key_size = get<std::uint16_t>(bytes, 24);
  std::size_t value_size = get<std::uint32_t>(bytes, 26);
  // The length fields are checked before the CRC: a damaged length must neither make us read past the
  // limits nor hash megabytes of garbage.
  if (key_size > kMaxKeyBytes || value_size > kMaxValueBytes) {
    record.status = RecordStatus::bad_length;
    return record;
  }
  std::size_t size = kRecordFixedBytes + key_size + value_size;
  if (bytes.size() < size) {
    record.status = RecordStatus::truncated;
    return record;
  }
  if (get<std::uint32_t>(bytes, 0) != crc32_of(bytes.substr(4, size - 4))) {
    record.status = RecordStatus::bad_crc;
    return record;
  }
  record.status = RecordStatus::ok;
  record.size = size;
  record.tag.counter = get<std::uint64_t>(bytes, 4);
  record.tag.writer = get<std::uint32_t>(bytes, 12);
  record.tag.epoch = get<std::uint64_t>(bytes, 16);
  record.key = bytes.substr(kRecordFixedBytes, key_size);
  record.value = bytes.substr(kRecordFixedBytes + key_size, value_size);
  return record;
}

const char* describe(RecordStatus status) noexcept {
  switch (status) {
    case RecordStatus::ok:
      return "ok";
    case RecordStatus::truncated:
      return "record cut short";
    case RecordStatus::bad_length:
      return "record length out of range";
    case RecordStatus::bad_crc:
      return "record CRC mismatch";
  }
  return "unknown record status";
}

std::string encode_snapshot(const Entries& entries) {
  // Entries is ordered by key, so the same state always gives the same bytes (the simulation compares runs).
  std::string out = encode_header(FileKind::snapshot);
  put<std::uint64_t>(out, entries.size());
  for (const auto& [key, versioned] : entries) {
    append_record(out, key, versioned);
  }
  put<std::uint32_t>(out, crc32_of(std::string_view(out).substr(kHeaderBytes)));
  return out;
}

DecodedSnapshot decode_snapshot(std::string_view bytes) {
  DecodedSnapshot result;
  HeaderCheck header = check_header(FileKind::snapshot, bytes);
  result.header = header.status;
  result.version = header.version;
  if (header.status != HeaderStatus::ok) {
    result.why = describe(header.status);
    return result;
  }
  std::string_view body = bytes.substr(kHeaderBytes);
  if (body.size() < 8 + 4) {
    result.why = "cut short before its entry count";
    return result;
  }
  std::string_view covered = body.substr(0, body.size() - 4);
  if (get<std::uint32_t>(body, body.size() - 4) != crc32_of(covered)) {
    result.why = "CRC mismatch (cut short or damaged)";
    return result;
  }
  std::uint64_t count = get<std::uint64_t>(covered, 0);
  std::size_t at = 8;
  for (std::uint64_t i = 0; i < count; ++i) {
    DecodedRecord record = decode_record(covered.substr(at));
    if (record.status != RecordStatus::ok) {
      result.why = std::string("entry ") + std::to_string(i) + ": " + describe(record.status);
      return result;
    }
    auto [it, inserted] =
        result.entries.try_emplace(std::string(record.key), Versioned{record.tag, std::string(record.value)});
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

std::string encode_epoch(std::uint64_t epoch) {
  std::string out = encode_header(FileKind::epoch);
  std::string value;
  put<std::uint64_t>(value, epoch);
  out.append(value);
  put<std::uint32_t>(out, crc32_of(value));
  return out;
}

DecodedEpoch decode_epoch(std::string_view bytes) {
  DecodedEpoch result;
  HeaderCheck header = check_header(FileKind::epoch, bytes);
  result.header = header.status;
  if (header.status != HeaderStatus::ok) {
    result.why = describe(header.status);
    return result;
  }
  if (bytes.size() != kEpochFileBytes) {
    result.why = "size " + std::to_string(bytes.size()) + ", expected " + std::to_string(kEpochFileBytes);
    return result;
  }
  std::string_view value = bytes.substr(kHeaderBytes, 8);
  if (get<std::uint32_t>(bytes, kHeaderBytes + 8) != crc32_of(value)) {
    result.why = "CRC mismatch";
    return result;
  }
  result.epoch = get<std::uint64_t>(value, 0);
  result.ok = true;
  return result;
}

}  // namespace disk_format
}  // namespace fg::quorum
