#include "quorum/replica_log.hpp"

#include <optional>
#include <string>
#include <utility>

namespace fg::quorum {
namespace {

namespace df = disk_format;

constexpr std::string_view kSnapshot = "snapshot";
constexpr std::string_view kLog = "log";
constexpr std::string_view kCorruptSnapshot = "snapshot.corrupt";
constexpr std::string_view kCorruptLog = "log.corrupt";
constexpr std::string_view kStaleSnapshot = "snapshot.stale";

bool is_absent(const std::error_code& ec) {
  return ec == std::errc::no_such_file_or_directory;
}

// Reads `name`; an absent file is an empty optional, any other failure an error.
std::expected<std::optional<std::string>, std::error_code> read_if_present(storage::Disk& disk,
                                                                           std::string_view name) {
  auto bytes = disk.read(name);
  if (bytes) {
    return std::optional<std::string>(std::move(*bytes));
  }
  if (is_absent(bytes.error())) {
    return std::optional<std::string>();
  }
  return std::unexpected(bytes.error());
}

// Applies a replayed record by the replay rule: only a higher tag replaces what is held. Returns whether
// the record changed anything.
bool replay_record(Entries& entries, const df::DecodedRecord& record) {
  auto [it, inserted] = entries.try_emplace(std::string(record.key));
  if (record.tag <= it->second.tag) {
    if (inserted) {
      entries.erase(it);  // A zero tag is "never written": it must not create the key.
    }
    return false;
  }
  it->second = Versioned{record.tag, std::string(record.value)};
  return true;
}

// Whether a valid record starts anywhere in `bytes`. A value may itself contain the bytes of a record,
// so a torn record can contain a "valid" one: that only makes a torn tail look like corruption (it is
// reported and kept aside), never the other way round.
bool valid_record_within(std::string_view bytes) {
  for (std::size_t at = 0; at + df::kRecordFixedBytes <= bytes.size(); ++at) {
    if (df::decode_record(bytes.substr(at)).status == df::RecordStatus::ok) {
      return true;
    }
  }
  return false;
}

const std::string kMustRestore = "it must restore its keys from a quorum before serving";

}  // namespace

std::expected<OpenedReplicaLog, std::error_code> open_replica_log(storage::Disk& disk,
                                                                  ReplicaLogOptions options) {
  ReplicaLog log(disk, options);
  Recovered rec;

  auto snapshot_bytes = read_if_present(disk, kSnapshot);
  if (!snapshot_bytes) {
    return std::unexpected(snapshot_bytes.error());
  }
  auto log_bytes = read_if_present(disk, kLog);
  if (!log_bytes) {
    return std::unexpected(log_bytes.error());
  }

  // A file of a newer format is refused before anything is changed: renaming or cutting it could
  // destroy state a newer build wrote and an older one simply cannot read.
  std::optional<df::DecodedSnapshot> snapshot;
  if (*snapshot_bytes) {
    snapshot = df::decode_snapshot(**snapshot_bytes);
    if (snapshot->header == df::HeaderStatus::newer_version) {
      return std::unexpected(make_error_code(StateError::newer_format));
    }
  }
  df::HeaderCheck log_header;
  if (*log_bytes) {
    log_header = df::check_header(df::FileKind::log, **log_bytes);
    if (log_header.status == df::HeaderStatus::newer_version) {
      return std::unexpected(make_error_code(StateError::newer_format));
    }
  }

  if (!*snapshot_bytes) {
    rec.problems.push_back(*log_bytes
                               ? "no snapshot: this replica was never initialized or lost its snapshot; " +
                                     kMustRestore + " (the log's records are kept)"
                               : "empty state directory: " + kMustRestore);
  } else if (!snapshot->ok) {
    // Serving from a damaged snapshot could answer with stale or invented values; rebuilding from the
    // peers is always safe. The file is kept aside for a post-mortem, not deleted.
    rec.corruption = true;
    rec.problems.push_back("corrupt snapshot: " + snapshot->why + " (renamed to snapshot.corrupt; " +
                           kMustRestore + ")");
    if (std::error_code ec = disk.rename(kSnapshot, kCorruptSnapshot)) {
      return std::unexpected(ec);
    }
  } else {
    rec.entries = std::move(snapshot->entries);
    rec.initialized = true;
    log.snapshot_size_ = (*snapshot_bytes)->size();
  }

  // Without its log, a snapshot is not the whole state: the records since it are gone. A damaged log
  // header is treated the same way (the log is created whole by Disk::replace, so no crash explains it,
  // and whatever damaged it may have damaged records too).
  bool new_log = !*log_bytes;
  if (*log_bytes && log_header.status != df::HeaderStatus::ok) {
    rec.corruption = true;
    rec.initialized = false;
    rec.problems.push_back(std::string("corrupt log header: ") + df::describe(log_header.status) +
                           " (renamed to log.corrupt; " + kMustRestore + ")");
    if (std::error_code ec = disk.rename(kLog, kCorruptLog)) {
      return std::unexpected(ec);
    }
    new_log = true;
  }
  if (new_log && *snapshot_bytes && snapshot->ok) {
    // The snapshot goes aside before the new log is created: in the other order, a crash in between
    // would leave a snapshot and an empty log, which the next start would take for an initialized state.
    if (*log_bytes == std::nullopt) {
      rec.corruption = true;
      rec.problems.push_back("log missing beside the snapshot: stores since the snapshot may be lost; " +
                             kMustRestore);
    }
    rec.initialized = false;
    rec.problems.push_back(
        "the snapshot was renamed to snapshot.stale (its entries are recovered as a start)");
    if (std::error_code ec = disk.rename(kSnapshot, kStaleSnapshot)) {
      return std::unexpected(ec);
    }
  }

  if (new_log) {
    if (std::error_code ec = disk.replace(kLog, df::encode_header(df::FileKind::log))) {
      return std::unexpected(ec);
    }
    log.log_size_ = df::kHeaderBytes;
  } else {
    std::string_view bytes = **log_bytes;
    std::size_t at = df::kHeaderBytes;
    df::RecordStatus stopped_by = df::RecordStatus::ok;
    while (at < bytes.size()) {
      df::DecodedRecord record = df::decode_record(bytes.substr(at));
      if (record.status != df::RecordStatus::ok) {
        stopped_by = record.status;
        break;
      }
      ++rec.records_replayed;
      if (!replay_record(rec.entries, record)) {
        ++rec.records_ignored;
      }
      at += record.size;
    }
    if (at < bytes.size()) {
      // Replay stops at the first bad record: what follows garbage is not trusted, even if it parses.
      std::string_view tail = bytes.substr(at);
      std::string where = "at offset " + std::to_string(at) + " (" + df::describe(stopped_by) + "): cut " +
                          std::to_string(tail.size()) + " bytes";
      if (valid_record_within(tail.substr(1))) {
        rec.corruption = true;
        rec.problems.push_back("log damaged " + where +
                               ", including valid records after the damage (saved in log.corrupt)");
        if (std::error_code ec = disk.replace(kCorruptLog, tail)) {
          return std::unexpected(ec);
        }
      } else {
        rec.problems.push_back("torn log tail " + where);
      }
      if (std::error_code ec = disk.truncate(kLog, at)) {
        return std::unexpected(ec);
      }
      rec.bytes_cut = tail.size();
    }
    log.log_size_ = at;
  }

  log.initialized_ = rec.initialized;
  return OpenedReplicaLog{std::move(log), std::move(rec)};
}

std::error_code ReplicaLog::append(std::string_view key, const Versioned& entry) {
  if (failed_) {
    return StateError::log_failed;
  }
  if (std::error_code ec = disk_format::check_record_size(key, entry.value)) {
    return ec;
  }
  std::string record;
  disk_format::append_record(record, key, entry);
  if (std::error_code ec = disk_->append(kLog, record)) {
    // A failed write may have left part of the record (a short write before ENOSPC). Cut it off, or
    // the next good record would follow garbage and be thrown away with it at the next open.
    if (disk_->truncate(kLog, log_size_)) {
      failed_ = true;
    }
    return ec;
  }
  log_size_ += record.size();
  pending_ = true;
  return {};
}

std::error_code ReplicaLog::commit() {
  if (failed_) {
    return StateError::log_failed;
  }
  if (!pending_) {
    return {};
  }
  if (std::error_code ec = disk_->sync(kLog)) {
    failed_ = true;
    return ec;
  }
  pending_ = false;
  return {};
}

std::error_code ReplicaLog::write_snapshot(const Entries& entries) {
  std::string bytes = disk_format::encode_snapshot(entries);
  if (std::error_code ec = disk_->replace(kSnapshot, bytes)) {
    return ec;
  }
  snapshot_size_ = bytes.size();
  return {};
}

std::error_code ReplicaLog::mark_initialized(const Entries& entries) {
  // The log is left as it is: replaying it over the new snapshot changes nothing (replay rule).
  if (std::error_code ec = write_snapshot(entries)) {
    return ec;
  }
  initialized_ = true;
  return {};
}

bool ReplicaLog::compaction_due() const noexcept {
  return initialized_ && !failed_ && log_bytes() > options_.compact_min_log_bytes &&
         log_bytes() >= 2 * snapshot_size_;
}

std::expected<bool, std::error_code> ReplicaLog::compact(const Entries& entries) {
  if (failed_) {
    return std::unexpected(make_error_code(StateError::log_failed));
  }
  if (!compaction_due()) {
    return false;
  }
  if (pending_) {
    return std::unexpected(make_error_code(StateError::commit_pending));
  }
  // Snapshot first, then the log: a crash in between leaves the new snapshot and the old log, whose
  // replay changes nothing. The other order could lose every store since the previous snapshot.
  if (std::error_code ec = write_snapshot(entries)) {
    return std::unexpected(ec);  // The old snapshot and the log are intact; compaction can be retried.
  }
  if (std::error_code ec = disk_->truncate(kLog, disk_format::kHeaderBytes)) {
    failed_ = true;
    return std::unexpected(ec);
  }
  log_size_ = disk_format::kHeaderBytes;
  return true;
}

}  // namespace fg::quorum
