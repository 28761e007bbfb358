#include "gateway/publish_spool.hpp"

#include <system_error>

#include "gateway/log.hpp"
#include "storage/error.hpp"

namespace fg::gateway {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A checkpoint that could not be written (typically a full disk) is tried again this much later.
constexpr auto kCheckpointRetry = 1000ms;
// Age samples kept: about an hour at one a second; beyond that they are taken less often.
constexpr std::size_t kAgeSamples = 3600;

std::string describe_open_error(const std::string& dir, std::error_code ec) {
  if (ec == storage::StorageError::in_use) {
    return "spool: " + dir +
           " is in use by another fieldgate (its lock is held); two gateways must not "
           "share a state_dir";
  }
  // Most often a run by hand as a user who cannot write the packaged default: say which key moves it.
  return "spool: cannot open " + dir + ": " + ec.message() +
         " (set [gateway] state_dir to a directory this user can write, or [mqtt] spool = false)";
}

}  // namespace

std::expected<std::unique_ptr<PublishSpool>, std::string> PublishSpool::open(
    loop::Loop& loop, const std::string& state_dir, const mqtt::SpoolSettings& settings,
    std::chrono::milliseconds checkpoint_every) {
  const std::string dir = state_dir + "/spool";
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);  // systemd makes it for the service; tests do not
  auto disk = storage::PosixDisk::open(dir, {.sync_enabled = true, .exclusive = true});
  if (!disk) {
    return std::unexpected(describe_open_error(dir, disk.error()));
  }
  std::unique_ptr<PublishSpool> host(new PublishSpool(loop, settings, std::move(*disk), checkpoint_every));
  auto state = read_seq_checkpoint(host->disk_);
  if (!state) {
    // Numbering must not restart in silence: refuse, and let a human look at (or remove) the file.
    return std::unexpected("spool: the seq checkpoint in " + dir + " (" + std::string(kSeqCheckpointName) +
                           ", " + std::string(kSeqCommitCheckpointName) +
                           ") cannot be read: " + state.error().message());
  }
  host->state_ = std::move(*state);
  if (settings.enabled) {
    mqtt::SpoolOptions options{.max_bytes = settings.max_bytes,
                               .sync_every_push = settings.sync.count() == 0};
    PublishSpool* self = host.get();
    mqtt::SpoolHooks hooks{.recovered =
                               [self](const mqtt::Publication& m) {
                                 if (auto seq = payload_seq(m.payload); seq > 0) {
                                   auto& last = self->state_.seq[m.topic];
                                   last = std::max(last, seq);
                                 }
                               },
                           .before_delete = [self] { self->checkpoint(); },
                           // The deletions of the group commit: a snapshot now, written by its job.
                           .checkpoint_job = [self] { return self->commit_checkpoint(); },
                           .appended = [self] { self->on_appended(); }};
    auto spool = mqtt::Spool::open(
        host->disk_, options, [](std::string_view line) { log(LogLevel::warning, "{}", line); },
        std::move(hooks));
    if (!spool) {
      return std::unexpected(describe_open_error(dir, spool.error()));
    }
    host->spool_.emplace(std::move(*spool));
    if (auto waiting = host->spool_->unacknowledged(); waiting > 0) {
      // Their age is unknown: they are at least as old as this start.
      host->ages_.emplace_back(host->spool_->next_seq() - 1, Clock::now());
    }
  }
  // The new boot epoch is durable before the first reading carries it.
  ++host->state_.epoch;
  if (auto written = write_seq_checkpoint(host->disk_, host->state_)) {
    return std::unexpected("spool: cannot write the seq checkpoint in " + dir + ": " + written.message());
  }
  host->last_checkpoint_ = loop.now();
  log(LogLevel::info, "spool: {} ({}), boot epoch {}", settings.enabled ? dir : "off",
      settings.enabled ? (settings.mode == mqtt::SpoolMode::always ? "always" : "outage")
                       : "seq checkpoint only",
      host->state_.epoch);
  return host;
}

PublishSpool::~PublishSpool() {
  sync_timer_.close();
}

void PublishSpool::written() {
  sample_age();
  if (seq_changed_ && !armed_for_) {
    plan();  // the checkpoint is due (the common case, a timer already armed, costs nothing here)
  }
}

void PublishSpool::on_appended() {
  if (!sync_due_) {
    sync_due_ = loop_.now() + sync_period();
    if (!armed_for_ || *armed_for_ > *sync_due_) {
      plan();
    }
  }
}

void PublishSpool::plan() {
  if (stopped_) {
    sync_timer_.stop();
    return;
  }
  std::optional<Ms> due = sync_due_;
  auto earliest = [&](Ms at) { due = due ? std::min(*due, at) : at; };
  if (checkpoint_owed_) {
    earliest(loop_.now() + kCheckpointRetry);
  } else if (seq_changed_) {
    earliest(last_checkpoint_ + checkpoint_every_);
  }
  if (due == armed_for_) {
    return;
  }
  armed_for_ = due;
  if (!due) {
    sync_timer_.stop();
    return;
  }
  sync_timer_.start(std::max(Ms(0), *due - loop_.now()), [this] { tick(); });
}

void PublishSpool::tick() {
  ++wakeups_;
  armed_for_.reset();
  const Ms now = loop_.now();
  if (spool_ && sync_due_ && *sync_due_ <= now) {
    start_sync();
    prune_ages();
    // The drain ends with the last acknowledgement, whose record brings this tick.
    if (draining_ && spool_->unacknowledged() == 0) {
      draining_ = false;
      log(LogLevel::notice, "spool: drained in {} ms",
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - drain_since_).count());
    }
  }
  if (checkpoint_owed_ || (seq_changed_ && now - last_checkpoint_ >= checkpoint_every_)) {
    checkpoint();
  }
  plan();
}

void PublishSpool::start_sync() {
  // A sync still under way (a slow card) covers the last period; what came since waits one more period.
  if (sync_job_.busy()) {
    sync_due_ = loop_.now() + sync_period();
    return;
  }
  sync_due_.reset();
  if (auto job = spool_->begin_sync()) {
    // Failures are counted by the spool, and end the segment they hit.
    auto done = [this](std::error_code ec) {
      spool_->end_sync(ec);
      commit_ended();
    };
    if (!sync_job_.start(std::move(job), std::move(done))) {
      done(std::make_error_code(std::errc::resource_unavailable_try_again));
    }
  }
}

void PublishSpool::checkpoint() {
  if (auto ec = write_seq_checkpoint(disk_, state_)) {
    if (stopped_) {
      // No retry at a stop: a timer would keep the loop, and the process, alive (a state directory gone
      // with its card would hang the stop until systemd's SIGKILL). The next start loses what a crash
      // would: the spool's records still carry their seqs, and the rest continues under a new epoch.
      log(LogLevel::warning, "spool: cannot write the seq checkpoint at the stop: {}", ec.message());
      return;
    }
    // Typically a full disk (the new file needs room before the old goes). The segment about to be
    // deleted frees room: try again from the next tick, so only a crash in between can lose its seqs.
    if (!checkpoint_owed_) {
      log(LogLevel::warning, "spool: cannot write the seq checkpoint: {}; trying again", ec.message());
    }
    checkpoint_owed_ = true;
    plan();
    return;
  }
  if (checkpoint_owed_) {
    log(LogLevel::notice, "spool: the seq checkpoint is written again");
  }
  checkpoint_owed_ = false;
  seq_changed_ = false;
  last_checkpoint_ = loop_.now();
}

std::expected<storage::Disk::SyncJob, std::error_code> PublishSpool::commit_checkpoint() {
  auto job = seq_checkpoint_job(disk_, state_);
  if (!job) {
    return job;
  }
  auto written = std::make_shared<bool>(false);
  commit_checkpoint_ = CommitCheckpoint{loop_.now(), seqs_given_, written};
  return storage::Disk::SyncJob([job = std::move(*job), written]() mutable {
    std::error_code ec = job();
    *written = !ec;
    return ec;
  });
}

void PublishSpool::commit_ended() {
  auto commit = std::exchange(commit_checkpoint_, std::nullopt);
  if (!commit || !*commit->written || checkpoint_owed_) {
    return;
  }
  // Every seq up to the snapshot is durable: the periodic checkpoint is due a minute from it, or not at
  // all if no seq was given since, so while segments are deleted (every few seconds under a steady flow)
  // the loop thread writes none.
  if (commit->taken > last_checkpoint_) {
    last_checkpoint_ = commit->taken;
    seq_changed_ = seq_changed_ && seqs_given_ != commit->seqs_given;
    plan();
  }
}

void PublishSpool::prune_ages() {
  // A sample (s, t) says: messages up to s were pushed by t. The front one whose s reaches the oldest
  // unacknowledged message gives its age (at most a sample's spacing too young).
  const auto oldest = spool_->oldest_unacknowledged();
  if (oldest == 0) {
    ages_.clear();
    return;
  }
  while (!ages_.empty() && ages_.front().first < oldest) {
    ages_.pop_front();
  }
}

void PublishSpool::sample_age() {
  if (!spool_) {
    return;
  }
  const auto now = Clock::now();
  prune_ages();
  auto spacing = std::chrono::seconds(1 + ages_.size() / kAgeSamples);
  if (ages_.empty() || now - ages_.back().second >= spacing) {
    ages_.emplace_back(spool_->next_seq() - 1, now);
  }
}

void PublishSpool::on_state(mqtt::State state) {
  if (!spool_) {
    return;
  }
  const auto now = Clock::now();
  if (state == mqtt::State::disconnected && !outage_since_) {
    outage_since_ = now;
    appended_at_outage_ = spool_->counters().appended;
    draining_ = false;
    log(LogLevel::warning, "spool: broker away; spooling QoS 1/2 messages ({} waiting, {} bytes)",
        spool_->unacknowledged(), spool_->bytes());
  } else if (state == mqtt::State::connected) {
    const auto waiting = spool_->unacknowledged();
    if (outage_since_) {
      log(LogLevel::notice, "spool: broker back after {} ms; {} messages spooled meanwhile, {} to send",
          std::chrono::duration_cast<std::chrono::milliseconds>(now - *outage_since_).count(),
          spool_->counters().appended - appended_at_outage_, waiting);
      outage_since_.reset();
    } else if (waiting > 0) {
      log(LogLevel::notice, "spool: {} messages from before the start to send", waiting);
    }
    if (waiting > 0) {
      draining_ = true;  // the tick that syncs the last acknowledgement notices the end
      drain_since_ = now;
    }
  }
}

void PublishSpool::stopped() {
  stopped_ = true;
  sync_timer_.stop();
  armed_for_.reset();
  sync_due_.reset();
  if (spool_) {
    (void)spool_->sync();
    if (auto kept = spool_->unacknowledged(); kept > 0) {
      log(LogLevel::notice,
          "spool: {} messages not acknowledged by the broker are kept for the next start ({} bytes)", kept,
          spool_->bytes());
    }
  }
  checkpoint();
}

SpoolStatus PublishSpool::status() const {
  SpoolStatus s;
  s.wakeups = wakeups_;
  if (!spool_) {
    return s;
  }
  s.depth = spool_->unacknowledged();
  s.bytes = spool_->bytes();
  s.dropped = spool_->counters().dropped;
  s.syncs = spool_->counters().syncs;
  if (s.depth > 0 && !ages_.empty()) {
    s.oldest_age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ages_.front().second);
  }
  return s;
}

}  // namespace fg::gateway
