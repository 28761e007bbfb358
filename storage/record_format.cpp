#include "storage/record_format.hpp"

#include "storage/crc32.hpp"
#include "storage/error.hpp"
#include "storage/little_endian.hpp"

namespace fg::storage::record_format {
namespace {

constexpr std::size_t kMagicBytes = 8;

// Whether an intact record starts anywhere in `bytes`. A payload may itself contain the bytes of a
// record, so a torn record can contain a "valid" one: that only makes a torn tail look like corruption
// (reported, and kept aside by careful callers), never the other way round.
bool intact_record_within(std::string_view bytes, std::size_t max_payload) noexcept {
  for (std::size_t at = 0; at + kRecordOverhead <= bytes.size(); ++at) {
    if (decode_record(bytes.substr(at), max_payload).status == RecordStatus::ok) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string encode_header(std::string_view magic, std::uint32_t version) {
  std::string out(magic.substr(0, kMagicBytes));
  out.resize(kMagicBytes, '\0');
  put_u32(out, version);
  put_u32(out, crc32(out));
  return out;
}

HeaderCheck check_header(std::string_view magic, std::uint32_t newest, std::string_view file) noexcept {
  if (file.size() < kHeaderBytes) {
    // A header is written whole by Disk::replace, but a file made by append() (or a crash of a file
    // system that does not order the size and the data) may hold part of one.
    std::string_view start = file.substr(0, kMagicBytes);
    return {magic.starts_with(start) ? HeaderStatus::torn : HeaderStatus::bad_magic, 0};
  }
  if (file.substr(0, kMagicBytes) != magic) {
    return {HeaderStatus::bad_magic, 0};
  }
  if (get_u32(file, 12) != crc32(file.substr(0, 12))) {
    return {HeaderStatus::bad_crc, 0};
  }
  std::uint32_t version = get_u32(file, 8);
  if (version == 0) {
    return {HeaderStatus::bad_version, 0};
  }
  return {version > newest ? HeaderStatus::newer_version : HeaderStatus::ok, version};
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

std::error_code header_error(HeaderStatus status) noexcept {
  switch (status) {
    case HeaderStatus::ok:
      return {};
    case HeaderStatus::torn:
      return StorageError::torn_header;
    case HeaderStatus::bad_magic:
      return StorageError::bad_magic;
    case HeaderStatus::bad_crc:
      return StorageError::bad_header_crc;
    case HeaderStatus::bad_version:
      return StorageError::bad_version;
    case HeaderStatus::newer_version:
      return StorageError::newer_format;
  }
  return StorageError::bad_magic;
}

void append_record(std::string& out, std::string_view payload) {
  std::size_t start = out.size();
  put_u32(out, 0);  // The CRC, filled in below.
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  std::uint32_t crc = crc32(std::string_view(out).substr(start + 4));
  for (std::size_t i = 0; i < 4; ++i) {
    out[start + i] = static_cast<char>(static_cast<std::uint8_t>(crc >> (8 * i)));
  }
}

DecodedRecord decode_record(std::string_view bytes, std::size_t max_payload) noexcept {
  DecodedRecord record;
  if (bytes.size() < kRecordOverhead) {
    record.status = RecordStatus::truncated;
    return record;
  }
  std::size_t length = get_u32(bytes, 4);
  if (length > max_payload) {
    record.status = RecordStatus::bad_length;
    return record;
  }
  std::size_t size = kRecordOverhead + length;
  if (bytes.size() < size) {
    record.status = RecordStatus::truncated;
    return record;
  }
  if (get_u32(bytes, 0) != crc32(bytes.substr(4, size - 4))) {
    record.status = RecordStatus::bad_crc;
    return record;
  }
  record.status = RecordStatus::ok;
  record.size = size;
  record.payload = bytes.substr(kRecordOverhead, length);
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

const char* describe(Tail tail) noexcept {
  switch (tail) {
    case Tail::clean:
      return "clean";
    case Tail::torn:
      return "torn tail";
    case Tail::corrupt:
      return "corrupt";
  }
  return "unknown tail";
}

Scan scan_records(std::string_view file, std::size_t max_payload, const RecordVisitor& visit) {
  Scan scan;
  std::size_t at = file.size() < kHeaderBytes ? file.size() : kHeaderBytes;
  while (at < file.size()) {
    DecodedRecord record = decode_record(file.substr(at), max_payload);
    if (record.status != RecordStatus::ok) {
      scan.stopped_by = record.status;
      break;
    }
    if (visit) {
      visit(record.payload, at);
    }
    ++scan.records;
    at += record.size;
  }
  scan.intact_bytes = at;
  scan.damaged_bytes = file.size() - at;
  if (at < file.size()) {
    scan.tail = intact_record_within(file.substr(at + 1), max_payload) ? Tail::corrupt : Tail::torn;
  }
  return scan;
}

}  // namespace fg::storage::record_format
