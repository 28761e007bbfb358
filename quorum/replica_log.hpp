#pragma once
// ReplicaLog: a replica's durable key -> Versioned map, kept as a snapshot plus an append-only log.
//
// Files in the state directory, storage/ record files (layouts in docs/quorum-disk-format.md):
//   snapshot  the full state at some point, written whole with Disk::replace (storage::RecordFileImage);
//   log       records (key, tag, value) appended since that snapshot (a storage::RecordFile).
// The map itself is the caller's: open_replica_log() hands back what it recovered, the caller applies
// each store to its map and to append(), and passes the map to compact().
//
// A store is acknowledged only after commit() returned success for it: append() buffers the record
// (write(2)), commit() makes everything appended since the last commit durable with one fdatasync (group
// commit), so a burst of stores costs one sync.
//
// Replay rule: a log record whose tag is not higher than the tag held for its key is ignored. Stores only
// ever raise a key's tag, so replaying a log twice, or an old log over a newer snapshot, changes nothing;
// that is what makes compaction safe to interrupt (new snapshot first, then the log is emptied).
//
// Initialized: a replica whose disk was lost must not answer until it has restored its keys from a
// quorum, or it would serve (and acknowledge reads with) stale data as if it had never seen the writes.
// The state counts as initialized only once a snapshot exists; mark_initialized() writes the first one.
//
// The log refers to its Disk, which must outlive it and stay where it is (not be moved from).
// The object is single-threaded like the protocol core that owns it. After a failed write or sync of the
// log it refuses further writes (StateError::log_failed): once fdatasync has failed, the kernel may have
// dropped the unwritten pages, so nothing appended since the last good commit can be trusted; the caller
// must stop acknowledging and reopen (restart), which rebuilds from what is really on disk.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "quorum/disk_format.hpp"
#include "quorum/tag.hpp"
#include "storage/disk.hpp"
#include "storage/record_file.hpp"

namespace fg::quorum {

struct OpenedReplicaLog;

struct ReplicaLogOptions {
  // Compaction is due when the log holds more than this many bytes and at least twice the snapshot's
  // size, so a large state is not rewritten for every few megabytes of stores.
  std::uint64_t compact_min_log_bytes = std::uint64_t{4} * 1024 * 1024;
};

// What open_replica_log() found on disk.
struct Recovered {
  Entries entries;
  // Whether this replica may serve: a snapshot exists and was intact. See the header comment.
  bool initialized = false;
  // Bytes cut from the end of the log: a torn tail of a crash, or garbage (see `corruption`).
  std::uint64_t bytes_cut = 0;
  // Valid log records read; of these, records_ignored did not raise their key's tag.
  std::uint64_t records_replayed = 0;
  std::uint64_t records_ignored = 0;
  // Damage beyond what a crash explains. A corrupt snapshot, a corrupt log header or a log missing beside
  // a snapshot may have lost acknowledged stores, so the state also comes back not initialized. A bad
  // record followed by valid ones is cut like a torn tail (the cut bytes are kept in "log.corrupt") but
  // leaves `initialized` alone: a power loss can write unsynced pages out of order, so it does not prove
  // that an acknowledged store was lost, and a site-wide power cut must not leave every replica
  // uninitialized. The caller should log it loudly and may choose to rebuild from peers.
  bool corruption = false;
  // Whether the directory held no state at all (no snapshot, no log): a member of a new site, or one
  // whose disk was lost. Not a problem in itself: the replica asks its peers which it is.
  bool empty_directory = false;
  // 1 when files of format version 1 were found and rewritten as version 2 (0: nothing converted).
  std::uint32_t converted_from = 0;
  // One line per finding, for the operator ("corrupt snapshot: CRC mismatch ...").
  std::vector<std::string> problems;
};

class ReplicaLog {
 public:
  ReplicaLog(ReplicaLog&&) noexcept = default;
  ReplicaLog& operator=(ReplicaLog&&) noexcept = default;
  ReplicaLog(const ReplicaLog&) = delete;
  ReplicaLog& operator=(const ReplicaLog&) = delete;

  // Buffers the record (key, entry) in the log. Keys over 255 bytes and values over 64 KiB are refused
  // (StateError::key_too_large / value_too_large) and nothing is written.
  std::error_code append(std::string_view key, const Versioned& entry);
  // Makes every record appended since the last commit durable (one Disk::sync); nothing to do is success.
  std::error_code commit();
  // Whether records wait for commit().
  bool pending() const noexcept { return log_.pending(); }

  bool initialized() const noexcept { return initialized_; }
  // Writes the first snapshot of `entries` (the restored state, which must include every record
  // recovered or appended so far); from then on the state is initialized, also after a restart.
  std::error_code mark_initialized(const Entries& entries);

  // Whether the log has outgrown the options' threshold. Never while not initialized: a snapshot would
  // declare the state initialized.
  bool compaction_due() const noexcept;
  // If compaction_due(): writes `entries` as the new snapshot, then empties the log; returns whether it
  // did. `entries` must hold every record appended; records must be committed first
  // (StateError::commit_pending otherwise).
  std::expected<bool, std::error_code> compact(const Entries& entries);

  // Bytes in the log beyond its header, and the size of the last snapshot read or written.
  std::uint64_t log_bytes() const noexcept { return log_.record_bytes(); }
  std::uint64_t snapshot_bytes() const noexcept { return snapshot_size_; }

 private:
  friend std::expected<OpenedReplicaLog, std::error_code> open_replica_log(storage::Disk&, ReplicaLogOptions);

  ReplicaLog(storage::Disk& disk, ReplicaLogOptions options, storage::RecordFile log)
      : disk_(&disk), options_(options), log_(std::move(log)) {}
  std::error_code write_snapshot(const Entries& entries);

  storage::Disk* disk_;
  ReplicaLogOptions options_;
  storage::RecordFile log_;
  std::string payload_;  // Reused by append(), so a store allocates nothing once it has grown.
  std::uint64_t snapshot_size_ = 0;
  bool initialized_ = false;
};

struct OpenedReplicaLog {
  ReplicaLog log;
  Recovered recovered;
};

// Loads the snapshot and replays the log; see Recovered. Creates the log if it is missing and cuts a torn
// or garbled tail. Files that cannot be trusted are renamed aside, never deleted, and the renames make
// "not initialized" stick across restarts: a corrupt snapshot to "snapshot.corrupt"; a log with a
// corrupt header to "log.corrupt"; and an intact snapshot whose log is missing or corrupt to
// "snapshot.stale". Files of format version 1 are read and rewritten as version 2 (Recovered::
// converted_from). Errors: the disk's errors, and StateError::newer_format when a file was written by a
// newer format version, in which case no file is touched.
std::expected<OpenedReplicaLog, std::error_code> open_replica_log(storage::Disk& disk,
                                                                  ReplicaLogOptions options = {});

}  // namespace fg::quorum
