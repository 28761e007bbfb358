#include "quorum/disk_format.hpp"

#include <optional>
#include <string>

#include "quorum/disk_format_v1.hpp"
#include "storage/record_file.hpp"

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

namespace rf = storage::record_format;

std::error_code check_entry_size(std::string_view key, std::string_view value) noexcept {
  if (key.size() > kMaxKeyBytes) {
    return StateError::key_too_large;
  }
  if (value.size() > kMaxValueBytes) {
    return StateError::value_too_large;
  }
  return {};
}

void append_entry(std::string& out, std::string_view key, const Versioned& entry) {
  put_le<std::uint64_t>(out, entry.tag.counter);
  put_le<std::uint32_t>(out, entry.tag.writer);
  put_le<std::uint64_t>(out, entry.tag.epoch);
  put_le<std::uint16_t>(out, static_cast<std::uint16_t>(key.size()));
  out.append(key);
  out.append(entry.value);
}

DecodedEntry decode_entry(std::string_view payload) noexcept {
  DecodedEntry entry;
  if (payload.size() < kEntryFixedBytes) {
    return entry;
  }
  std::size_t key_size = get_le<std::uint16_t>(payload, 20);
  if (key_size > kMaxKeyBytes || kEntryFixedBytes + key_size > payload.size()) {
    return entry;
  }
  entry.ok = true;
  entry.tag = Tag{get_le<std::uint64_t>(payload, 0), get_le<std::uint32_t>(payload, 8),
                  get_le<std::uint64_t>(payload, 12)};
  entry.key = payload.substr(kEntryFixedBytes, key_size);
  entry.value = payload.substr(kEntryFixedBytes + key_size);
  return entry;
}

std::string encode_snapshot(const Entries& entries) {
  // Entries is ordered by key, so the same state always gives the same bytes (the simulation compares runs).
  storage::RecordFileImage image(kSnapshotFormat);
  std::string payload;
  put_le<std::uint64_t>(payload, entries.size());
  image.add(payload);
  for (const auto& [key, versioned] : entries) {
    payload.clear();
    append_entry(payload, key, versioned);
    image.add(payload);  // Fits: every entry was checked by check_entry_size before it was stored.
  }
  return image.bytes();
}

DecodedSnapshot decode_snapshot(std::string_view bytes) {
  DecodedSnapshot result;
  rf::HeaderCheck header = rf::check_header(kSnapshotFormat.magic, kVersion, bytes);
  result.header = header.status;
  result.version = header.version;
  if (header.status != rf::HeaderStatus::ok) {
    result.why = rf::describe(header.status);
    return result;
  }
  if (header.version == 1) {
    return v1::decode_snapshot(bytes);
  }
  std::uint64_t records = 0;
  std::uint64_t count = 0;
  rf::Scan scan = rf::scan_records(bytes, kSnapshotFormat.max_payload, [&](std::string_view payload, auto) {
    if (!result.why.empty()) {
      return;
    }
    if (records++ == 0) {
      if (payload.size() != 8) {
        result.why = "first record is not an entry count";
      } else {
        count = get_le<std::uint64_t>(payload, 0);
      }
      return;
    }
    DecodedEntry entry = decode_entry(payload);
    if (!entry.ok) {
      result.why = "entry " + std::to_string(records - 2) + " is malformed";
      return;
    }
    auto [it, inserted] =
        result.entries.try_emplace(std::string(entry.key), Versioned{entry.tag, std::string(entry.value)});
    if (!inserted) {
      result.why = "key \"" + it->first + "\" appears twice";
    }
  });
  if (!result.why.empty()) {
    return result;
  }
  if (scan.tail != rf::Tail::clean) {
    result.why = std::string(rf::describe(scan.tail)) + " after " + std::to_string(scan.records) +
                 " records (" + rf::describe(scan.stopped_by) + ")";
  } else if (records == 0) {
    result.why = "no entry count";
  } else if (records - 1 != count) {
    result.why = std::to_string(records - 1) + " entries where the count says " + std::to_string(count);
  } else {
    result.ok = true;
  }
  return result;
}

LogScan scan_log(std::string_view bytes, const EntryVisitor& visit) {
  LogScan result;
  rf::HeaderCheck header = rf::check_header(kLogFormat.magic, kVersion, bytes);
  result.header = header.status;
  result.version = header.version;
  if (header.status != rf::HeaderStatus::ok) {
    return result;
  }
  if (header.version == 1) {
    return v1::scan_log(bytes, visit);
  }
  // A record whose CRC holds but which is no entry was not written by us: like damage, it ends the scan.
  std::optional<std::uint64_t> malformed_at;
  rf::Scan scan =
      rf::scan_records(bytes, kLogFormat.max_payload, [&](std::string_view payload, std::uint64_t at) {
        if (malformed_at) {
          return;
        }
        DecodedEntry entry = decode_entry(payload);
        if (!entry.ok) {
          malformed_at = at;
          return;
        }
        visit(entry.key, Versioned{entry.tag, std::string(entry.value)});
      });
  if (malformed_at) {
    result.intact_bytes = *malformed_at;
    result.tail = rf::Tail::corrupt;
    result.stopped_by = "a record that is no entry";
  } else {
    result.intact_bytes = scan.intact_bytes;
    result.tail = scan.tail;
    if (scan.tail != rf::Tail::clean) {
      result.stopped_by = rf::describe(scan.stopped_by);
    }
  }
  return result;
}

std::string encode_epoch(std::uint64_t epoch) {
  storage::RecordFileImage image(kEpochFormat);
  std::string payload;
  put_le<std::uint64_t>(payload, epoch);
  image.add(payload);
  return image.bytes();
}

DecodedEpoch decode_epoch(std::string_view bytes) {
  DecodedEpoch result;
  rf::HeaderCheck header = rf::check_header(kEpochFormat.magic, kVersion, bytes);
  result.header = header.status;
  result.version = header.version;
  if (header.status != rf::HeaderStatus::ok) {
    result.why = rf::describe(header.status);
    return result;
  }
  if (header.version == 1) {
    return v1::decode_epoch(bytes);
  }
  std::uint64_t records = 0;
  rf::Scan scan = rf::scan_records(bytes, kEpochFormat.max_payload, [&](std::string_view payload, auto) {
    if (++records == 1 && payload.size() == 8) {
      result.epoch = get_le<std::uint64_t>(payload, 0);
    }
  });
  if (scan.tail != rf::Tail::clean || records != 1) {
    result.why = std::to_string(records) + " records, " + rf::describe(scan.tail);
  } else if (bytes.size() != rf::kHeaderBytes + rf::kRecordOverhead + 8) {
    result.why = "the record is not an epoch";
  } else {
    result.ok = true;
  }
  return result;
}

}  // namespace disk_format
}  // namespace fg::quorum
