// The seq checkpoint and boot epoch (gateway/seq_checkpoint.hpp) on the simulated disk, alone and together
// with the spool the way the gateway recovers seq (gateway/publish_spool.cpp): the larger of the
// checkpoint's seq and the highest seq in the spool's records, the checkpoint written before the spool
// deletes a segment.

#include "gateway/seq_checkpoint.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "mqtt/spool.hpp"
#include "storage/error.hpp"
#include "tests/storage/sim_disk.hpp"

namespace fg::gateway {
namespace {

TEST(SeqCheckpoint, AbsentIsEpochZeroAndWrittenReadsBack) {
  test::SimDisk disk;
  auto empty = read_seq_checkpoint(disk);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->epoch, 0u);
  EXPECT_TRUE(empty->seq.empty());

  SeqState state;
  state.epoch = 7;
  state.seq["fg/t1/dev/a"] = 41;
  state.seq["fg/t1/dev/\"b c\""] = 1ull << 40;
  ASSERT_FALSE(write_seq_checkpoint(disk, state));
  auto back = read_seq_checkpoint(disk);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->epoch, 7u);
  EXPECT_EQ(back->seq, state.seq);
}

TEST(SeqCheckpoint, DamageIsAnErrorNotAFreshStart) {
  test::SimDisk disk;
  SeqState state;
  state.epoch = 3;
  state.seq["fg/t1/dev/a"] = 9;
  ASSERT_FALSE(write_seq_checkpoint(disk, state));
  std::string bytes = *disk.read(kSeqCheckpointName);
  bytes[bytes.size() - 3] ^= 0x20;  // in the last record
  disk.put_durable(kSeqCheckpointName, bytes);
  EXPECT_FALSE(read_seq_checkpoint(disk));
  disk.put_durable(kSeqCheckpointName, "not a checkpoint at all");
  EXPECT_FALSE(read_seq_checkpoint(disk));
}

TEST(SeqCheckpoint, PayloadSeqReadsOnlyJsonReadings) {
  EXPECT_EQ(payload_seq(R"({"value":21.5,"unit":"C","seq":17,"epoch":2})"), 17u);
  EXPECT_EQ(payload_seq("21.5"), 0u);
  EXPECT_EQ(payload_seq(R"({"value":1})"), 0u);
  EXPECT_EQ(payload_seq(R"({"seq":-1})"), 0u);
  EXPECT_EQ(payload_seq("{broken"), 0u);
}

// Power cuts at any moment, with the spool the way the gateway runs it: after recovery every seq that
// was made durable is below the next seq, so no seq of a reading a subscriber may have seen is given to
// another reading, however many segments were deleted meanwhile. `commit_job`: the gateway's group commit
// (begin_sync's job: the segments' sync, the checkpoint to "seq-commit", the deletions), cut between any
// two of its steps (the simulated disk halts after a random number of operations); otherwise
// spool_sync "0s" (a sync at each push, deletions on the caller's thread after writing "seq").
void seq_never_goes_back(bool commit_job) {
  // Channels read at different rates: a slow one's last seq may sit only in a segment being deleted,
  // where only the checkpoint keeps it.
  const std::vector<std::string> topics = {"fg/t1/dev/a", "fg/t1/dev/b", "fg/t1/dev/c"};
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    test::SimDisk disk;
    std::map<std::string, std::uint64_t> durable_top;  // the highest seq made durable, per channel
    std::map<std::string, std::uint64_t> unsynced;     // pushed since the last sync
    std::uint64_t deleted = 0;
    for (int start = 0; start < 6; ++start) {
      // What the gateway does at start: checkpoint, spool records, new epoch.
      auto state = read_seq_checkpoint(disk);
      ASSERT_TRUE(state) << state.error().message();
      SeqState seqs = *state;
      mqtt::SpoolHooks hooks{.recovered =
                                 [&](const mqtt::Publication& m) {
                                   seqs.seq[m.topic] = std::max(seqs.seq[m.topic], payload_seq(m.payload));
                                 },
                             .before_delete = [&] { (void)write_seq_checkpoint(disk, seqs); },
                             .checkpoint_job = [&] { return seq_checkpoint_job(disk, seqs); },
                             .appended = {}};
      if (!commit_job) {
        hooks.checkpoint_job = {};
      }
      auto spool = mqtt::Spool::open(disk, {.segment_bytes = 400, .sync_every_push = !commit_job}, {}, hooks);
      if (!spool) {
        break;  // the disk halted inside open: the next start finds the same files
      }
      for (const auto& topic : topics) {
        ASSERT_GT(seqs.seq[topic] + 1, durable_top[topic]) << topic << ": a durable seq would be given again";
      }
      unsynced.clear();
      ++seqs.epoch;
      if (write_seq_checkpoint(disk, seqs)) {
        disk.crash(rng);
        continue;
      }
      disk.halt_after(rng() % 200);
      int mid = 1;
      for (int step = 0; step < 100 && !disk.halted(); ++step) {
        const auto r = rng() % 16;
        const std::string& topic = topics[r < 12 ? 0 : r < 15 ? 1 : 2];
        const std::uint64_t seq = ++seqs.seq[topic];
        spool->push({topic, R"({"value":1,"seq":)" + std::to_string(seq) + "}", mqtt::Qos::at_least_once});
        unsynced[topic] = seq;
        if (!commit_job && !disk.halted() && spool->pending() == false) {
          durable_top[topic] = std::max(durable_top[topic], seq);
        }
        if (spool->front() != nullptr) {
          spool->sent(mid);
          if (rng() % (commit_job ? 32 : 4) != 0) {  // a message never acknowledged keeps its segment
            spool->acknowledged(mid);
          }
          ++mid;
        }
        if (commit_job && rng() % 3 == 0) {
          const auto deleted_before = spool->counters().segments_deleted;
          if (auto job = spool->begin_sync()) {
            spool->end_sync(job());
          }
          if (!disk.halted()) {
            for (const auto& [t, top] : unsynced) {
              durable_top[t] = std::max(durable_top[t], top);
            }
            unsynced.clear();
            deleted += spool->counters().segments_deleted - deleted_before;
          }
        }
      }
      disk.crash(rng);
    }
    if (commit_job && seed == 300) {
      EXPECT_GT(deleted, 0u) << "the commit's job deleted segments";
    }
  }
}

TEST(SeqCheckpoint, SeqNeverGoesBackOverPowerCutsWithTheSpoolOverManySeeds) {
  seq_never_goes_back(false);
}

TEST(SeqCheckpoint, SeqNeverGoesBackOverPowerCutsBetweenTheStepsOfTheCommitJob) {
  seq_never_goes_back(true);
}

// Each writer has its file, and the state is their merge, so that a checkpoint job finishing after a
// newer write on the loop thread sets nothing back.
TEST(SeqCheckpoint, TheTwoFilesMergeToTheLargerSeqAndEpoch) {
  test::SimDisk disk;
  SeqState older{.epoch = 4, .seq = {{"fg/a", 10}, {"fg/b", 3}}};
  SeqState newer{.epoch = 4, .seq = {{"fg/a", 12}, {"fg/c", 1}}};
  ASSERT_FALSE(write_seq_checkpoint(disk, newer));
  auto job = seq_checkpoint_job(disk, older);
  ASSERT_TRUE(job);
  EXPECT_FALSE(disk.read(kSeqCommitCheckpointName)) << "written when the job runs";
  ASSERT_FALSE((*job)());
  auto merged = read_seq_checkpoint(disk);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->epoch, 4u);
  EXPECT_EQ(merged->seq,
            (std::map<std::string, std::uint64_t, std::less<>>{{"fg/a", 12}, {"fg/b", 3}, {"fg/c", 1}}));
  disk.put_durable(kSeqCommitCheckpointName, "damaged");
  EXPECT_FALSE(read_seq_checkpoint(disk)) << "damage in either file is an error";
}

}  // namespace
}  // namespace fg::gateway
