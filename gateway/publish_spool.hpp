#pragma once
// PublishSpool: the gateway's side of the disk spool (issue 12). It owns the spool's directory
// (<[gateway] state_dir>/spool/, locked so that a second gateway on it is refused), the mqtt::Spool the
// session publishes QoS 1 / 2 messages through, the group commit (one fdatasync per spool_sync period
// while anything was written, none when idle; run on libuv's threadpool, so that a card taking tens of
// milliseconds to sync stalls no reading: the loop thread only hands the job out and takes its result),
// the seq checkpoint and boot epoch (gateway/seq_checkpoint.hpp: before the spool deletes acknowledged
// segments, the group commit's job writes a snapshot of it, so the loop thread writes none for them)
// and the log lines of an outage: when it began, how much was spooled, when it drained.
//
// One timer serves the group commit and the checkpoint, armed for the moment the earlier of them is due
// and for nothing else: a gateway with nothing unsynced and no seq to checkpoint has no timer running
// (no wake-up), and one that read a reading wakes once to sync it and once, a minute later, to checkpoint.

#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gateway/seq_checkpoint.hpp"
#include "loop/background_job.hpp"
#include "loop/loop.hpp"
#include "loop/timer.hpp"
#include "mqtt/options.hpp"
#include "mqtt/session.hpp"
#include "mqtt/spool.hpp"
#include "storage/posix_disk.hpp"

namespace fg::gateway {

struct SpoolStatus {
  std::uint64_t depth = 0;  // messages not acknowledged by the broker (sent or not)
  std::uint64_t bytes = 0;  // of every segment
  std::optional<std::chrono::milliseconds> oldest_age;  // of the oldest of them (none: empty)
  std::uint64_t dropped = 0;                            // given up: spool_max, full disk, damaged segment
  std::uint64_t syncs = 0;
  std::uint64_t wakeups = 0;  // of the group commit's timer: none while there is nothing to write
};

class PublishSpool {
 public:
  // Opens (creating) <state_dir>/spool/, takes its lock, reads the seq checkpoint and the spool's
  // records, and makes the new boot epoch durable. With settings.enabled false only the checkpoint is
  // kept there (seq and epoch continue all the same). The error is a sentence for the log.
  // `checkpoint_every`: how often, at most, changed seqs that did not go through the spool are written
  // (what a crash can set a channel's seq back by); tests shorten it.
  static std::expected<std::unique_ptr<PublishSpool>, std::string> open(
      loop::Loop& loop, const std::string& state_dir, const mqtt::SpoolSettings& settings,
      std::chrono::milliseconds checkpoint_every = std::chrono::minutes(1));
  PublishSpool(const PublishSpool&) = delete;
  PublishSpool& operator=(const PublishSpool&) = delete;
  ~PublishSpool();

  // The spool to give the session (Session::use_spool), or nullptr when [mqtt] spool = false.
  mqtt::Spool* spool() noexcept { return spool_ ? &*spool_ : nullptr; }

  std::uint64_t epoch() const noexcept { return state_.epoch; }
  // The next seq for the channel published on `topic` (1 after the last one, across restarts).
  std::uint64_t next_seq(const std::string& topic) { return next_seq(seq_counter(topic)); }
  // The same in two steps, so that a caller publishing many readings looks the channel up once:
  // the counter stays where it is for the PublishSpool's lifetime.
  std::uint64_t& seq_counter(const std::string& topic) { return state_.seq[topic]; }
  std::uint64_t next_seq(std::uint64_t& counter) {
    seq_changed_ = true;
    ++seqs_given_;
    return ++counter;
  }
  // After each publish: the seq checkpoint becomes due (the spool's appends arm the group commit).
  void written();
  // The session's state changed: the outage log lines.
  void on_state(mqtt::State state);
  // The session has closed (clean stop): what is kept is synced and logged, the checkpoint written.
  void stopped();

  SpoolStatus status() const;

 private:
  using Ms = std::chrono::milliseconds;
  PublishSpool(loop::Loop& loop, mqtt::SpoolSettings settings, storage::PosixDisk disk, Ms checkpoint_every)
      : loop_(loop),
        settings_(settings),
        checkpoint_every_(checkpoint_every),
        disk_(std::move(disk)),
        sync_timer_(loop),
        sync_job_(loop) {}
  void tick();
  // Hands the spool's group commit to the threadpool, unless the last one is still under way.
  void start_sync();
  // A record was appended: the group commit is due one period from the first unsynced one.
  void on_appended();
  // (Re)arms the timer for the earliest of what is due (sync, checkpoint, its retry), or stops it.
  void plan();
  Ms sync_period() const { return settings_.sync.count() > 0 ? settings_.sync : Ms(1000); }
  void prune_ages();
  void checkpoint();
  // The spool's checkpoint_job hook: a snapshot of the seqs, written to "seq-commit" by the group
  // commit's job before it deletes acknowledged segments.
  std::expected<storage::Disk::SyncJob, std::error_code> commit_checkpoint();
  // The group commit's job ended: a checkpoint it wrote counts as the periodic one.
  void commit_ended();
  void sample_age();

  loop::Loop& loop_;
  mqtt::SpoolSettings settings_;
  Ms checkpoint_every_;
  storage::PosixDisk disk_;
  std::optional<mqtt::Spool> spool_;
  SeqState state_;
  bool seq_changed_ = false;
  bool checkpoint_owed_ = false;  // the last write failed: the next tick tries again
  bool stopped_ = false;          // stopped() ran: nothing is armed again, so the loop can end
  // Moments on the loop's clock (Loop::now()), the one the timer counts on, so a tick never comes early.
  Ms last_checkpoint_{0};
  // The checkpoint in the group commit's job under way: when its snapshot was taken, and (set by the job,
  // read after it ended) whether it was written.
  struct CommitCheckpoint {
    Ms taken;
    std::uint64_t seqs_given;  // seqs_given_ then
    std::shared_ptr<bool> written;
  };
  std::uint64_t seqs_given_ = 0;  // by next_seq(), ever
  std::optional<CommitCheckpoint> commit_checkpoint_;
  std::optional<Ms> sync_due_;  // something was appended and not yet handed to a sync
  std::optional<Ms> armed_for_;
  std::uint64_t wakeups_ = 0;
  loop::Timer sync_timer_;
  loop::BackgroundJob sync_job_;  // the group commit's fdatasync under way (declared after spool_)
  // (spool seq, when it was pushed), about one per second, for the oldest message's age.
  std::deque<std::pair<std::uint64_t, std::chrono::steady_clock::time_point>> ages_;
  // The outage under way: when it began, and the spool's appended count then.
  std::optional<std::chrono::steady_clock::time_point> outage_since_;
  std::uint64_t appended_at_outage_ = 0;
  bool draining_ = false;
  std::chrono::steady_clock::time_point drain_since_;
};

}  // namespace fg::gateway
