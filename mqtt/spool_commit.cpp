// Spool: the group commit (sync(), begin_sync(), end_sync()) and the deletion of acknowledged segments
// that joins it. The order of a commit's job and why it is crash-safe: mqtt/spool.hpp, "Deleting
// acknowledged segments".

#include <algorithm>
#include <utility>
#include <vector>

#include "mqtt/spool.hpp"

namespace fg::mqtt {
namespace {

// Runs every job, in order, whatever the earlier ones returned; the first failure is the result.
std::error_code run_in_order(std::vector<storage::Disk::SyncJob>& jobs) {
  std::error_code first;
  for (auto& job : jobs) {
    if (auto ec = job(); ec && !first) {
      first = ec;
    }
  }
  return first;
}

}  // namespace

void Spool::delete_acknowledged_segments() {
  while (segments_.size() > 1 && segments_.front().unacked == 0) {
    // Its unsynced records need no sync: every message in it is acknowledged, and its acknowledgement
    // records name only messages of its own or of older segments, which are retired before it.
    std::erase_if(finished_unsynced_, [&](const auto& job) { return job.first == segments_.front().name; });
    retired_.push_back(std::move(segments_.front()));
    segments_.pop_front();
  }
  if (options_.sync_every_push) {
    delete_retired_now();  // that mode syncs on the caller's thread anyway
  }
  episode_over();
}

bool Spool::delete_retired_now() {
  if (retired_.empty()) {
    return false;
  }
  if (hooks_.before_delete) {
    hooks_.before_delete();
  }
  // A job under way may be deleting some of them too: a discard of a file already gone is fine, and its
  // end finds them no longer retired.
  for (const auto& segment : retired_) {
    (void)disk_->discard(segment.name);
    ++counters_.segments_deleted;
  }
  retired_.clear();
  return true;
}

storage::Disk::SyncJob Spool::deletion_job() {
  if (retired_.empty() || deletion_) {
    return {};
  }
  storage::Disk::SyncJob checkpoint;
  if (hooks_.checkpoint_job) {
    auto job = hooks_.checkpoint_job();
    if (!job) {
      end_deletion(Deletion{.deleted = false, .checkpoint = job.error(), .discard = {}});
      return {};
    }
    checkpoint = std::move(*job);
  } else if (hooks_.before_delete) {
    hooks_.before_delete();
  }
  std::vector<std::string> names;
  for (const auto& segment : retired_) {
    names.push_back(segment.name);
  }
  auto discard = disk_->discard_job(names);
  if (!discard) {
    ++counters_.write_errors;  // the next commit tries again
    return {};
  }
  deleting_ = std::move(names);
  deletion_ = std::make_shared<Deletion>();
  return [outcome = deletion_, checkpoint = std::move(checkpoint), discard = std::move(*discard)]() mutable {
    if (checkpoint) {
      outcome->checkpoint = checkpoint();
      if (outcome->checkpoint) {
        return std::error_code();  // the files stay: the checkpoint holding their seqs is not durable
      }
    }
    outcome->discard = discard();
    outcome->deleted = true;
    return std::error_code();
  };
}

void Spool::end_deletion(const Deletion& outcome) {
  const auto names = std::exchange(deleting_, {});
  if (!outcome.deleted) {
    // They stay retired, for the next commit (or a deletion for room, which does not wait for one).
    ++counters_.write_errors;
    if (!deletion_failing_) {
      deletion_failing_ = true;
      const std::string why = outcome.checkpoint ? outcome.checkpoint.message() : "the job did not run";
      log("spool: acknowledged segments are kept: the checkpoint before their deletion failed (" + why +
          "); trying again with each group commit");
    }
    return;
  }
  if (deletion_failing_) {
    deletion_failing_ = false;
    log("spool: acknowledged segments are deleted again");
  }
  if (outcome.discard) {
    ++counters_.write_errors;  // forgotten all the same, as a synchronous discard's failure is
  }
  for (const auto& name : names) {
    // Absent if a deletion for room, or sync(), took it meanwhile (and counted it).
    counters_.segments_deleted += std::erase_if(retired_, [&](const Segment& s) { return s.name == name; });
  }
  episode_over();
}

std::pair<std::vector<storage::Disk::SyncJob>, std::uint64_t> Spool::segment_sync_jobs() {
  std::vector<storage::Disk::SyncJob> jobs;
  for (auto& [name, job] : std::exchange(finished_unsynced_, {})) {
    jobs.push_back(std::move(job));
  }
  std::uint64_t segment = 0;
  if (tail_ && tail_->pending()) {
    if (auto job = tail_->sync_job()) {
      jobs.push_back(std::move(*job));
      segment = segments_.back().id;
    } else {
      ++counters_.write_errors;  // the file refuses writes now: the next append starts a segment
    }
  }
  if (!jobs.empty()) {
    ++counters_.syncs;
  }
  return {std::move(jobs), segment};
}

std::error_code Spool::sync() {
  auto [jobs, segment] = segment_sync_jobs();
  const std::error_code first = run_in_order(jobs);
  sync_ended(first, segment);
  delete_retired_now();  // the acknowledgements first, then (before_delete) the owner's state
  return first;
}

storage::Disk::SyncJob Spool::begin_sync() {
  auto [jobs, segment] = segment_sync_jobs();
  syncing_segment_ = segment;
  auto deletion = deletion_job();
  if (jobs.empty() && !deletion) {
    return {};
  }
  // The order is the crash argument (mqtt/spool.hpp): the acknowledgements, then the deletion.
  return [jobs = std::move(jobs), deletion = std::move(deletion)]() mutable {
    const std::error_code first = run_in_order(jobs);
    if (deletion) {
      (void)deletion();  // its outcome goes to end_sync() through the spool's Deletion
    }
    return first;
  };
}

void Spool::end_sync(std::error_code result) {
  if (deletion_) {
    const auto outcome = std::exchange(deletion_, nullptr);
    end_deletion(*outcome);
  }
  sync_ended(result, std::exchange(syncing_segment_, 0));
}

void Spool::sync_ended(std::error_code result, std::uint64_t segment) {
  if (!result) {
    return;
  }
  // The file refuses further writes now (storage/record_file.hpp); the next append starts a segment.
  ++counters_.write_errors;
  if (tail_ && segment != 0 && segments_.back().id == segment) {
    tail_->sync_failed();
  }
}

}  // namespace fg::mqtt
