#include "quorum/replica_log.hpp"

#include <optional>
#include <string>
#include <utility>

namespace fg::quorum {
namespace {

namespace df = disk_format;
namespace rf = storage::record_format;

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
bool replay_record(Entries& entries, std::string_view key, const Versioned& entry) {
  auto [it, inserted] = entries.try_emplace(std::string(key));
  if (entry.tag <= it->second.tag) {
    if (inserted) {
      entries.erase(it);  // A zero tag is "never written": it must not create the key.
    }
    return false;
  }
  it->second = entry;
  return true;
}

const std::string kMustRestore = "it must restore its keys from a quorum before serving";

// The log as a RecordFile, after open_replica_log() made it whole (created, cut or rewritten).
std::expected<storage::RecordFile, std::error_code> open_log_file(storage::Disk& disk) {
  auto opened = storage::RecordFile::open(disk, std::string(kLog), df::kLogFormat);
  if (!opened) {
    return std::unexpected(opened.error());
  }
  if (std::error_code ec = opened->file.cut_tail()) {  // Nothing to do unless it was damaged meanwhile.
    return std::unexpected(ec);
  }
  return std::move(opened->file);
}

}  // namespace

std::expected<OpenedReplicaLog, std::error_code> open_replica_log(storage::Disk& disk,
                                                                  ReplicaLogOptions options) {
  Recovered rec;
  std::uint64_t snapshot_size = 0;

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
    if (snapshot->header == rf::HeaderStatus::newer_version) {
      return std::unexpected(make_error_code(StateError::newer_format));
    }
  }
  rf::HeaderCheck log_header;
  if (*log_bytes) {
    log_header = rf::check_header(df::kLogFormat.magic, df::kVersion, **log_bytes);
    if (log_header.status == rf::HeaderStatus::newer_version) {
      return std::unexpected(make_error_code(StateError::newer_format));
    }
  }

  if (!*snapshot_bytes && !*log_bytes) {
    rec.empty_directory = true;
  } else if (!*snapshot_bytes) {
    rec.problems.push_back("no snapshot: this replica was never initialized or lost its snapshot; " +
                           kMustRestore + " (the log's records are kept)");
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
    rec.initialized = true;
    snapshot_size = (*snapshot_bytes)->size();
    if (snapshot->version < df::kVersion) {
      // Rewritten in this build's format at once: replace() leaves the old file or the new one, and either
      // is read. The log beside it is converted below; until then it is read as it is.
      std::string bytes = df::encode_snapshot(snapshot->entries);
      if (std::error_code ec = disk.replace(kSnapshot, bytes)) {
        return std::unexpected(ec);
      }
      rec.converted_from = snapshot->version;
      snapshot_size = bytes.size();
    }
    rec.entries = std::move(snapshot->entries);
  }

  // Without its log, a snapshot is not the whole state: the records since it are gone. A damaged log
  // header is treated the same way (the log is created whole by Disk::replace, so no crash explains it,
  // and whatever damaged it may have damaged records too).
  bool new_log = !*log_bytes;
  if (*log_bytes && log_header.status != rf::HeaderStatus::ok) {
    rec.corruption = true;
    rec.initialized = false;
    rec.problems.push_back(std::string("corrupt log header: ") + rf::describe(log_header.status) +
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

  std::expected<storage::RecordFile, std::error_code> file = std::unexpected(std::error_code());
  if (new_log) {
    file = storage::RecordFile::create(disk, std::string(kLog), df::kLogFormat);
  } else {
    std::string_view bytes = **log_bytes;
    // A log of an older version is rewritten whole, as the same entries in this build's format.
    bool convert = log_header.version < df::kVersion;
    storage::RecordFileImage converted(df::kLogFormat);
    std::string payload;
    df::LogScan scan = df::scan_log(bytes, [&](std::string_view key, const Versioned& entry) {
      ++rec.records_replayed;
      if (!replay_record(rec.entries, key, entry)) {
        ++rec.records_ignored;
      }
      if (convert) {
        payload.clear();
        df::append_entry(payload, key, entry);
        converted.add(payload);
      }
    });
    if (scan.tail != rf::Tail::clean) {
      // Replay stopped at the first bad record: what follows garbage is not trusted, even if it parses.
      std::string_view tail = bytes.substr(scan.intact_bytes);
      std::string where = "at offset " + std::to_string(scan.intact_bytes) + " (" + scan.stopped_by +
                          "): cut " + std::to_string(tail.size()) + " bytes";
      if (scan.tail == rf::Tail::corrupt) {
        rec.corruption = true;
        rec.problems.push_back("log damaged " + where +
                               ", including valid records after the damage (saved in log.corrupt)");
        if (std::error_code ec = disk.replace(kCorruptLog, tail)) {
          return std::unexpected(ec);
        }
      } else {
        rec.problems.push_back("torn log tail " + where);
      }
      if (std::error_code ec = disk.truncate(kLog, scan.intact_bytes)) {
        return std::unexpected(ec);
      }
      rec.bytes_cut = tail.size();
    }
    if (convert) {
      if (std::error_code ec = converted.write(disk, kLog)) {
        return std::unexpected(ec);
      }
      rec.converted_from = log_header.version;
    }
    file = open_log_file(disk);
  }
  if (!file) {
    return std::unexpected(file.error());
  }

  ReplicaLog log(disk, options, std::move(*file));
  log.snapshot_size_ = snapshot_size;
  log.initialized_ = rec.initialized;
  return OpenedReplicaLog{std::move(log), std::move(rec)};
}

std::error_code ReplicaLog::append(std::string_view key, const Versioned& entry) {
  if (log_.failed()) {
    return StateError::log_failed;
  }
  if (std::error_code ec = df::check_entry_size(key, entry.value)) {
    return ec;
  }
  payload_.clear();
  df::append_entry(payload_, key, entry);
  return log_.append(payload_);
}

std::error_code ReplicaLog::commit() {
  if (log_.failed()) {
    return StateError::log_failed;
  }
  return log_.sync();
}

std::error_code ReplicaLog::write_snapshot(const Entries& entries) {
  std::string bytes = df::encode_snapshot(entries);
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
  return initialized_ && !log_.failed() && log_bytes() > options_.compact_min_log_bytes &&
         log_bytes() >= 2 * snapshot_size_;
}

std::expected<bool, std::error_code> ReplicaLog::compact(const Entries& entries) {
  if (log_.failed()) {
    return std::unexpected(make_error_code(StateError::log_failed));
  }
  if (!compaction_due()) {
    return false;
  }
  if (log_.pending()) {
    return std::unexpected(make_error_code(StateError::commit_pending));
  }
  // Snapshot first, then the log: a crash in between leaves the new snapshot and the old log, whose
  // replay changes nothing. The other order could lose every store since the previous snapshot.
  if (std::error_code ec = write_snapshot(entries)) {
    return std::unexpected(ec);  // The old snapshot and the log are intact; compaction can be retried.
  }
  if (std::error_code ec = log_.clear()) {
    return std::unexpected(ec);  // The log now refuses writes (StateError::log_failed) until reopened.
  }
  return true;
}

}  // namespace fg::quorum
