#pragma once
// Spool: a PublishQueue on disk (issue 12), so that messages waiting for the broker, and those sent but
// not acknowledged, survive a restart or a crash. The session publishes QoS 1 / 2 messages through it
// (Session::use_spool); the gateway opens it and runs its group commit (gateway/publish_spool.hpp).
//
//   storage::PosixDisk disk(...);                // the spool's own directory
//   auto spool = mqtt::Spool::open(disk, {.max_bytes = 64 << 20});
//   spool->push(message);                       // appended (not yet durable)
//   spool->sync();                              // group commit: one fdatasync for everything appended
//   auto job = spool->begin_sync();             // ... or its job, to run on another thread,
//   spool->end_sync(job());                     // and its result, back on the spool's thread
//   const Publication* m = spool->front();      // oldest unsent; after a restart: every unacknowledged one
//   spool->sent(mid);  ...  spool->acknowledged(mid);   // the ack is appended too
//
// Storage: segment files "seg-<16 hex digits>" of CRC-framed records (storage/record_file.hpp, format
// "FGSPOOL\n" version 1). A record is a message ('M': seq, QoS, retain, topic, payload) or an
// acknowledgement ('A': seq); acknowledgements are appended to the newest segment, so the acknowledgement
// mark costs an append, not a rewrite. Recovery reads every segment: the unacknowledged messages are
// the messages without an acknowledgement record, in seq order. A segment is deleted once every message
// in it is acknowledged (acknowledgement records in it are then no longer needed: they only name
// messages of its own or older segments). Segments are at most `segment_bytes` (plus one record).
//
// Deleting acknowledged segments (mqtt/spool_commit.cpp). When the last message of the oldest segments is
// acknowledged, they are retired, and the next group commit's job deletes them after its fdatasyncs, off
// the caller's thread: (1) the segments' fdatasync, which makes durable the acknowledgements that made them
// deletable; (2) the owner's checkpoint (SpoolHooks::checkpoint_job: the gateway's per-channel seqs, which
// the deleted records carried), written durably; (3) each retired segment emptied and unlinked; (4) one
// fsync of the directory. The crash argument, step by step: a file disappears only after the checkpoint
// holding the seqs in it is durable (2 before 3), so the owner's state never lags a deleted segment; a
// crash before (4) may leave a retired segment whole or empty, and an empty one is taken for never
// written; a whole one whose acknowledgements (1) a crash lost sends its messages again after the
// restart (QoS 1 duplicates, never a loss), and with them intact it is deleted at open. If the
// checkpoint fails, nothing is deleted and the segments wait for the next commit. One job at a time: a
// segment retired while one is under way waits for the next. Retired segments still count in bytes()
// and against `max_bytes` (they occupy the disk until the job ends), but they are the first to go when
// room is needed, before any message not acknowledged.
// Synchronous deletions, on the caller's thread with SpoolHooks::before_delete first: those for room
// (the size cap, a full disk: the space is needed now, and they are rare, an episode), those at open,
// sync() (a clean stop, discard(): nothing is left pending) and, with `sync_every_push` (which syncs on
// the caller's thread anyway), every deletion.
//
// What a crash costs: everything appended since the last sync() may be lost (the disk contract): a lost
// message was never promised, a lost acknowledgement makes the message go out again after the restart (a
// duplicate, the QoS 1 kind). A new segment's header is not synced when it is made, but with the first
// group commit after it (so a rollover syncs nothing on the caller's thread): a segment whose header a
// crash cut short was never promised anything and is removed. A torn tail is cut; a corrupt segment (damage
// no crash of ours explains) is renamed "<name>.corrupt", reported, and its messages counted as dropped. None
// of these stops the spool. A segment of a newer format is refused (open fails) and left alone.
//
// Bounded in bytes: when the segments would exceed `max_bytes`, the oldest segment goes (retired ones
// first), its messages not yet acknowledged counted as dropped; the same when the disk is full (ENOSPC),
// down to the segment being written, and segments go with Disk::discard so that their space is back at
// once even while a group commit holds them open. Drops are reported through the log callback once when an
// episode starts and once when it ends (the spool drained to half its cap, or of what the disk took), with
// the count.
//
// Memory: only the message ids in flight, a per-segment summary, and a window of at most
// `window_messages` unsent messages read ahead from disk.
//
// Known limits: each time the window empties, the segment it continues in is read and decoded whole
// (Disk::read), so draining a segment of n messages reads it about n / window_messages times.
// Acknowledgements arriving out of order are recorded one by one, so nothing is lost, but a segment waits for
// its slowest message. seq is the spool's own order, not the gateway's per-channel seq. QoS 0 messages are
// spooled like the others if pushed (the session may keep them in memory).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mqtt/publish_queue.hpp"
#include "storage/disk.hpp"
#include "storage/record_file.hpp"

namespace fg::mqtt {

struct SpoolOptions {
  std::uint64_t max_bytes = 64ull << 20;     // all segments together, headers included
  std::uint64_t segment_bytes = 1ull << 20;  // a new segment starts beyond this
  std::size_t window_messages = 1024;        // unsent messages held in memory at once
  // Syncs after every push, so a message is durable before it is handed out (spool_sync "0s").
  bool sync_every_push = false;
};

// What the owner of a spool may want to see of it (all optional). Called synchronously.
struct SpoolHooks {
  // Each message record found by open(), acknowledged or not, in segment order: the gateway recovers
  // its per-channel seq from the payloads it wrote.
  std::function<void(const Publication&)> recovered;
  // Just before segment files are deleted on the spool's thread (see "Synchronous deletions" above):
  // whatever the owner derives from the records must be made durable elsewhere now (the gateway's seq
  // checkpoint). It may be called while a checkpoint_job runs on another thread: the two must not write
  // the same file (the gateway writes two, gateway/seq_checkpoint.hpp).
  std::function<void()> before_delete;
  // The same for the deletions of the group commit's job: the job to run before them, made now from a
  // snapshot of the owner's state, that writes it durably and touches nothing else (it runs where
  // begin_sync()'s job runs). An error, or a failure of the job, leaves the segments for the next commit.
  // Without it before_delete is called when begin_sync() hands out a deletion.
  std::function<std::expected<storage::Disk::SyncJob, std::error_code>()> checkpoint_job;
  // After each record appended (a message or an acknowledgement): there is something to sync. The owner
  // that runs the group commit arms it from here, so it needs no polling while acknowledgements trickle in.
  std::function<void()> appended;
};

struct SpoolCounters {
  std::uint64_t appended = 0;      // messages written
  std::uint64_t acknowledged = 0;  // acknowledgement records written
  std::uint64_t dropped = 0;       // messages given up: size cap, full disk, corrupt segment, too big
  std::uint64_t recovered = 0;     // unacknowledged messages found by open()
  std::uint64_t segments_deleted = 0;
  std::uint64_t corrupt_segments = 0;  // set aside as "<name>.corrupt"
  std::uint64_t write_errors = 0;      // failed appends and syncs
  std::uint64_t syncs = 0;
};

class Spool final : public PublishQueue {
 public:
  using LogCallback = std::function<void(std::string_view)>;

  // Recovers what the directory holds (see above) and starts a new segment for what comes. Fails on a
  // disk error reading or listing it, or a segment of a newer format.
  static std::expected<Spool, std::error_code> open(storage::Disk& disk, SpoolOptions options = {},
                                                    LogCallback log = {}, SpoolHooks hooks = {});

  Spool(Spool&&) noexcept = default;
  Spool& operator=(Spool&&) noexcept = default;

  // PublishQueue.
  std::size_t push(Publication message) override;
  const Publication* front() const override;
  void sent(int mid) override;
  void track(const Publication& message, int mid) override;
  void acknowledged(int mid) override;
  // libmosquitto resends what it holds after a reconnect, with the same message ids, so the ids stay
  // valid; only a restart makes sent messages unsent again (open()).
  void connection_lost() override {}
  QosCounts discard() override;
  std::size_t size() const noexcept override { return static_cast<std::size_t>(unsent_); }
  bool keeps(int mid) const override { return in_flight_.contains(mid); }

  // Makes everything appended durable (one fdatasync of the newest segment, and of a segment finished
  // since the last sync). The owner calls it every spool_sync, or before each publish.
  std::error_code sync();
  // sync() in two halves, so that the owner can run the fdatasync off its thread (the gateway runs it on
  // libuv's threadpool, so a slow card stalls no reading): begin_sync() returns the work of one group
  // commit, empty when nothing waits, as a job that touches no state of the spool; end_sync() takes its
  // result on the spool's thread. Appends go on meanwhile, and the next sync covers them. One at a time.
  // The job also deletes the retired segments (above); sync() deletes them on the caller's thread.
  storage::Disk::SyncJob begin_sync();
  void end_sync(std::error_code result);
  bool pending() const noexcept { return !finished_unsynced_.empty() || (tail_ && tail_->pending()); }
  // Segments acknowledged and not yet deleted (counted in segments() and bytes()).
  std::size_t retired() const noexcept { return retired_.size(); }

  // Messages not yet acknowledged (sent or not), and the bytes of all segments.
  std::uint64_t unacknowledged() const noexcept;
  std::uint64_t bytes() const noexcept;
  std::size_t segments() const noexcept { return segments_.size() + retired_.size(); }
  const SpoolCounters& counters() const noexcept { return counters_; }
  // The spool's own seq of the oldest message not acknowledged (sent or not), or 0 when there is none;
  // next_seq() is the one the next push() gets. Together they let the owner age the spool.
  std::uint64_t oldest_unacknowledged() const;
  std::uint64_t next_seq() const noexcept { return next_seq_; }

 private:
  struct Segment {
    std::uint64_t id = 0;
    std::string name;
    std::uint64_t bytes = 0;
    std::uint64_t first_seq = 0;  // of its messages; 0 while it holds none
    std::uint64_t end_seq = 0;    // one past its last message
    std::uint64_t unacked = 0;
  };
  // What the deletion part of a group commit's job did, for end_sync() (written by the job only).
  struct Deletion {
    bool deleted = false;        // the checkpoint was durable, and the files were discarded
    std::error_code checkpoint;  // why not
    std::error_code discard;     // a discard or the directory's fsync failed (the files are forgotten)
  };
  struct Waiting {
    std::uint64_t seq;
    Publication message;
  };

  Spool(storage::Disk& disk, SpoolOptions options, LogCallback log, SpoolHooks hooks)
      : disk_(&disk),
        options_(options),
        log_(std::move(log)),
        hooks_(std::move(hooks)),
        room_(options.max_bytes) {}
  void remove_segment(const std::string& name);

  std::error_code recover();
  std::error_code start_segment();
  // start_segment(), and on a full disk, for a message, after dropping the oldest segment; false if the
  // spool still has no segment to write.
  bool start_segment_making_room(bool is_message);
  bool holds_messages() const noexcept;  // any segment has a message record, acknowledged or not
  void note_disk_full() noexcept;        // an append met ENOSPC: the room is what is spooled now
  bool disk_full() const noexcept;       // the current room is the disk's, not spool_max
  // Appends one record to the newest segment, making room (size cap, ENOSPC) first; false if dropped.
  bool append(const std::string& record, bool is_message);
  // Deletes the oldest segment (then starts a new one if it was the only one); false if there is none.
  bool drop_oldest_segment();
  // Retires the leading segments whose messages are all acknowledged (mqtt/spool_commit.cpp).
  void delete_acknowledged_segments();
  // Deletes every retired segment now, on this thread, before_delete first; false if there was none.
  bool delete_retired_now();
  // The deletion part of begin_sync()'s job, empty when nothing is retired or a deletion is under way.
  storage::Disk::SyncJob deletion_job();
  void end_deletion(const Deletion& outcome);
  // The fdatasyncs of one group commit, and the id of the segment being written if it is among them.
  std::pair<std::vector<storage::Disk::SyncJob>, std::uint64_t> segment_sync_jobs();
  void sync_ended(std::error_code result, std::uint64_t segment);
  Segment* segment_of(std::uint64_t seq);
  void fill_window() const;
  void dropped(std::uint64_t n);
  void episode_over();
  // The message `seq` is done (acknowledged, or nothing will acknowledge it): record it.
  void done(std::uint64_t seq);
  void log(const std::string& text) const {
    if (log_) {
      log_(text);
    }
  }

  storage::Disk* disk_;
  SpoolOptions options_;
  LogCallback log_;
  SpoolHooks hooks_;
  std::deque<Segment> segments_;  // oldest first; back() is written
  // Segments whose messages are all acknowledged, oldest first, waiting for the group commit to delete
  // them; the names handed to the job under way, and what it did.
  std::deque<Segment> retired_;
  std::vector<std::string> deleting_;
  std::shared_ptr<Deletion> deletion_;
  bool deletion_failing_ = false;  // the last deletion job's checkpoint failed (logged once)
  std::optional<storage::RecordFile> tail_;
  // The syncs of segments finished with records not yet synced, by segment name: they join the next
  // sync. A segment deleted before that takes its job along: the job's descriptor would keep the deleted
  // file's space (on a small disk, the room the deletion was for).
  std::vector<std::pair<std::string, storage::Disk::SyncJob>> finished_unsynced_;
  std::uint64_t syncing_segment_ = 0;  // the id of the segment whose sync begin_sync() handed out
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_id_ = 1;  // of the next segment
  std::uint64_t unsent_ = 0;   // messages not yet handed out by sent()
  // Unsent messages read ahead, in seq order, and the seq from which the next ones are on disk only.
  mutable std::deque<Waiting> window_;
  mutable std::uint64_t window_end_ = 1;
  // Acknowledged messages at or above the unsent cursor (only after a restart: acknowledgements
  // that arrived out of order before it), skipped when read ahead.
  std::unordered_set<std::uint64_t> acked_ahead_;
  std::unordered_map<int, std::uint64_t> in_flight_;  // message id -> seq
  SpoolCounters counters_;
  std::uint64_t episode_drops_ = 0;  // drops of the current episode (0: none going on)
  // What the spool could hold when it last had to drop: spool_max, or less when the disk filled first
  // (the bytes spooled at that ENOSPC). An episode ends at half of it.
  std::uint64_t room_;
};

}  // namespace fg::mqtt
