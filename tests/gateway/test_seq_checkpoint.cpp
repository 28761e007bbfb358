// The seq checkpoint and boot epoch (gateway/seq_checkpoint.hpp) on the simulated disk, alone and together
// with the spool the way the gateway recovers seq (gateway/publish_spool.cpp): the larger of the
// checkpoint's seq and the highest seq in the spool's records, the checkpoint written before the spool
// deletes a segment.

#include "gateway/seq_checkpoint.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

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

// A power cut at any moment: after recovery every seq that was made durable (spool_sync "0s": before it
// was handed out) is below the next seq, so no seq of a reading a subscriber may have seen is given to
// another reading, however many segments were deleted meanwhile.
TEST(SeqCheckpoint, SeqNeverGoesBackOverPowerCutsWithTheSpoolOverManySeeds) {
  const std::string topic = "fg/t1/dev/a";
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    test::SimDisk disk;
    std::uint64_t durable_top = 0;  // the highest seq pushed while the disk was up (synced at push)
    for (int start = 0; start < 6; ++start) {
      // What the gateway does at start: checkpoint, spool records, new epoch.
      auto state = read_seq_checkpoint(disk);
      ASSERT_TRUE(state) << state.error().message();
      SeqState seqs = *state;
      bool failed = false;
      mqtt::SpoolHooks hooks{.recovered =
                                 [&](const mqtt::Publication& m) {
                                   seqs.seq[m.topic] = std::max(seqs.seq[m.topic], payload_seq(m.payload));
                                 },
                             .before_delete =
                                 [&] {
                                   if (write_seq_checkpoint(disk, seqs)) {
                                     failed = true;  // the disk halted: the deletion fails too
                                   }
                                 },
                             .appended = {}};
      auto spool = mqtt::Spool::open(disk, {.segment_bytes = 400, .sync_every_push = true}, {}, hooks);
      if (!spool) {
        break;  // the disk halted inside open: the next start finds the same files
      }
      ASSERT_GT(seqs.seq[topic] + 1, durable_top) << "a durable seq would be given again";
      ++seqs.epoch;
      if (write_seq_checkpoint(disk, seqs)) {
        disk.crash(rng);
        continue;
      }
      disk.halt_after(rng() % 200);
      int mid = 1;
      for (int step = 0; step < 100 && !disk.halted(); ++step) {
        const std::uint64_t seq = ++seqs.seq[topic];
        spool->push({topic, R"({"value":1,"seq":)" + std::to_string(seq) + "}", mqtt::Qos::at_least_once});
        if (!disk.halted() && spool->pending() == false) {
          durable_top = std::max(durable_top, seq);
        }
        if (spool->front() != nullptr) {
          spool->sent(mid);
          if (rng() % 4 != 0) {
            spool->acknowledged(mid);
          }
          ++mid;
        }
      }
      (void)failed;
      disk.crash(rng);
    }
  }
}

}  // namespace
}  // namespace fg::gateway
