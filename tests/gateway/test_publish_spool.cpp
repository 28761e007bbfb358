// PublishSpool's timer (gateway/publish_spool.hpp): armed only for the moment a sync or a checkpoint is
// due, so an idle gateway has no wake-up. Real loop, real PosixDisk in a temporary directory, the spool
// driven directly (no broker: the session's part is what tests/mqtt covers). "The loop ran out of
// work" (run_for returns before its limit with no stop()) is the proof that no timer is left armed.

#include "gateway/publish_spool.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::gateway {
namespace {

using namespace std::chrono_literals;

class PublishSpoolTimer : public test::LoopTest {
 protected:
  std::unique_ptr<PublishSpool> open(std::chrono::milliseconds sync = 50ms,
                                     std::chrono::milliseconds checkpoint_every = 200ms) {
    mqtt::SpoolSettings settings;
    settings.sync = sync;
    auto spool = PublishSpool::open(loop, dir_.path().string(), settings, checkpoint_every);
    EXPECT_TRUE(spool.has_value()) << spool.error();
    return spool ? std::move(*spool) : nullptr;
  }

  // Publishes `n` readings on one channel as the gateway does: a seq, the spool's append, written().
  void publish(PublishSpool& host, int n) {
    for (int i = 0; i < n; ++i) {
      const std::uint64_t seq = host.next_seq("fg/t1/dev/a");
      host.spool()->push({"fg/t1/dev/a", "{\"seq\":" + std::to_string(seq) + "}", mqtt::Qos::at_least_once});
      host.written();
    }
  }

  // Runs the loop until nothing is left to wait for; fails if something still is after 5 s.
  void run_until_idle() {
    EXPECT_FALSE(loop.run_for(5s)) << "a timer is still armed: the gateway never rests";
  }

  test::TempDir dir_;
};

TEST_F(PublishSpoolTimer, AFreshSpoolArmsNoTimer) {
  auto host = open();
  ASSERT_TRUE(host);
  run_until_idle();
  EXPECT_EQ(host->status().wakeups, 0u);
  EXPECT_EQ(host->status().syncs, 0u);
}

TEST_F(PublishSpoolTimer, ReadingsWakeItOnceToSyncAndOnceToCheckpointThenNever) {
  auto host = open();
  ASSERT_TRUE(host);
  publish(*host, 100);
  run_until_idle();
  // The sync at 50 ms (one fdatasync for all 100), the checkpoint at 200 ms, and nothing after.
  EXPECT_EQ(host->status().wakeups, 2u);
  EXPECT_EQ(host->status().syncs, 1u);
}

TEST_F(PublishSpoolTimer, AcknowledgementsAfterTheLastReadingAreSyncedWithoutPolling) {
  auto host = open();
  ASSERT_TRUE(host);
  mqtt::Spool& spool = *host->spool();
  // No next_seq(): no checkpoint becomes due, so every wake-up here is a sync.
  for (int mid = 1; mid <= 10; ++mid) {
    spool.push({"fg/t1/dev/a", "x", mqtt::Qos::at_least_once});
    spool.sent(mid);
  }
  host->written();
  run_until_idle();
  EXPECT_EQ(host->status().wakeups, 1u);
  EXPECT_EQ(host->status().syncs, 1u);

  // The broker's acknowledgements, long after: their records arm one more sync, and then it rests.
  for (int mid = 1; mid <= 10; ++mid) {
    spool.acknowledged(mid);
  }
  run_until_idle();
  EXPECT_EQ(host->status().wakeups, 2u);
  EXPECT_EQ(host->status().syncs, 2u);
  EXPECT_EQ(host->status().depth, 0u);
}

// Acknowledged segments are deleted by the group commit's job, after it wrote the seqs to "seq-commit";
// that checkpoint serves as the periodic one, so the loop thread writes "seq" neither for the deletion
// nor a minute later.
TEST_F(PublishSpoolTimer, TheCommitsCheckpointBeforeADeletionServesAsThePeriodicOne) {
  // The checkpoint period is long enough that none falls due while the test pushes, short enough that
  // run_until_idle() would see it. The pushes are few and large (about ten to a 1 MiB segment), so that
  // filling three segments takes milliseconds even under AddressSanitizer on a busy machine: with
  // 200-byte records it took over 2 s there, the period fell due before the commit, and the loop wrote
  // "seq" itself.
  auto host = open(50ms, 2s);
  ASSERT_TRUE(host);
  const std::string seq_at_start = test::read_file(dir_ / "spool" / "seq");
  mqtt::Spool& spool = *host->spool();
  const std::string padding(100'000, 'p');
  int mid = 1;
  while (spool.segments() < 3) {  // 1 MiB segments
    const std::uint64_t seq = host->next_seq("fg/t1/dev/a");
    spool.push({"fg/t1/dev/a", "{\"seq\":" + std::to_string(seq) + "}" + padding, mqtt::Qos::at_least_once});
    spool.sent(mid++);
    host->written();
  }
  for (int m = 1; m < mid; ++m) {
    spool.acknowledged(m);
  }
  ASSERT_EQ(spool.retired(), 2u);
  run_until_idle();
  EXPECT_EQ(spool.segments(), 1u) << "the commit deleted the acknowledged segments";
  EXPECT_EQ(spool.counters().segments_deleted, 2u);
  EXPECT_EQ(host->status().wakeups, 1u) << "the sync; no periodic checkpoint after it";
  EXPECT_EQ(test::read_file(dir_ / "spool" / "seq"), seq_at_start) << "nothing written on the loop thread";
  auto disk = storage::PosixDisk::open(dir_ / "spool");
  ASSERT_TRUE(disk);
  auto state = read_seq_checkpoint(*disk);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->seq["fg/t1/dev/a"], static_cast<std::uint64_t>(mid - 1)) << "durable in seq-commit";
}

TEST_F(PublishSpoolTimer, WithTheSpoolOffOnlyTheCheckpointWakesIt) {
  mqtt::SpoolSettings settings;
  settings.enabled = false;
  auto opened = PublishSpool::open(loop, dir_.path().string(), settings, 100ms);
  ASSERT_TRUE(opened.has_value()) << opened.error();
  auto& host = **opened;
  for (int i = 0; i < 5; ++i) {
    (void)host.next_seq("fg/t1/dev/a");  // QoS 0 readings: numbered, not spooled
    host.written();
  }
  run_until_idle();
  EXPECT_EQ(host.status().wakeups, 1u);
}

// A state directory gone with its card: the stop's checkpoint fails, and the stop must still end (a retry
// timer would keep the loop, and the daemon, running until systemd's SIGKILL).
TEST_F(PublishSpoolTimer, AStopWhoseCheckpointFailsLeavesNothingArmed) {
  auto host = open();
  ASSERT_TRUE(host);
  publish(*host, 10);
  std::filesystem::remove_all(dir_.path());
  host->stopped();
  run_until_idle();
}

}  // namespace
}  // namespace fg::gateway
