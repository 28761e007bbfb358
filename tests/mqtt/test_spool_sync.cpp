// The spool's group commit in two halves (Spool::begin_sync / end_sync, which the gateway runs on libuv's
// threadpool), on the simulated disk: what it covers, a finished segment joining it, and a failed one.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "mqtt/spool.hpp"
#include "storage/error.hpp"
#include "tests/mqtt/spool_test_support.hpp"
#include "tests/storage/sim_disk.hpp"

namespace fg::mqtt {
namespace {

using test_support::message;

// What a spool opened again on the disk hands out.
std::vector<std::string> recovered_payloads(test::SimDisk& disk) {
  auto spool = Spool::open(disk);
  EXPECT_TRUE(spool);
  int mid = 1;
  return spool ? test_support::take_all(*spool, mid) : std::vector<std::string>{};
}

TEST(MqttSpoolSync, TheJobMakesDurableWhatWasAppendedBeforeIt) {
  test::SimDisk disk;
  std::mt19937_64 rng(1);
  {
    auto spool = Spool::open(disk);
    ASSERT_TRUE(spool);
    spool->push(message(1));
    spool->push(message(2));
    auto job = spool->begin_sync();
    ASSERT_TRUE(job);
    EXPECT_FALSE(spool->pending()) << "the job has taken what was pending";
    EXPECT_FALSE(spool->begin_sync()) << "nothing more to sync";
    spool->end_sync(job());
    EXPECT_EQ(spool->counters().syncs, 1u);
    EXPECT_EQ(spool->counters().write_errors, 0u);
  }
  disk.crash(rng);
  EXPECT_EQ(recovered_payloads(disk), (std::vector<std::string>{"payload 1", "payload 2"}));
}

TEST(MqttSpoolSync, NothingIsSyncedUntilTheJobRuns) {
  test::SimDisk disk;
  auto spool = Spool::open(disk);
  ASSERT_TRUE(spool);
  spool->push(message(1));
  const auto syncs_before = disk.sync_calls();
  auto job = spool->begin_sync();
  ASSERT_TRUE(job);
  EXPECT_EQ(disk.sync_calls(), syncs_before) << "begin_sync hands the work out, it does not do it";
  spool->end_sync(job());
  EXPECT_EQ(disk.sync_calls(), syncs_before + 1);
}

// A segment finished between two syncs is synced with the next one, not on its own when it is finished.
TEST(MqttSpoolSync, FinishedSegmentsJoinTheNextSync) {
  test::SimDisk disk;
  std::mt19937_64 rng(2);
  std::vector<std::string> pushed;
  {
    auto spool = Spool::open(disk, {.segment_bytes = 200});
    ASSERT_TRUE(spool);
    const auto syncs_before = disk.sync_calls();
    for (int i = 0; i < 12; ++i) {
      spool->push(message(i));
      pushed.push_back("payload " + std::to_string(i));
    }
    ASSERT_GE(spool->segments(), 3u);
    EXPECT_EQ(disk.sync_calls(), syncs_before) << "no fdatasync when a segment is finished";
    auto job = spool->begin_sync();
    ASSERT_TRUE(job);
    spool->end_sync(job());
    EXPECT_EQ(disk.sync_calls(), syncs_before + spool->segments()) << "one per segment written";
    EXPECT_EQ(spool->counters().syncs, 1u) << "one group commit";
  }
  disk.crash(rng);
  EXPECT_EQ(recovered_payloads(disk), pushed);
}

// A segment retired (every message acknowledged) before the next sync is not synced by it, but deleted:
// its sync would cost a write for records nobody needs, and hold the deleted file's space.
TEST(MqttSpoolSync, ADeletedSegmentIsNotSynced) {
  test::SimDisk disk;
  auto spool = Spool::open(disk, {.segment_bytes = 200});
  ASSERT_TRUE(spool);
  for (int i = 0; i < 12; ++i) {
    spool->push(message(i));
  }
  ASSERT_GE(spool->segments(), 3u);
  int mid = 1;
  while (spool->front() != nullptr) {
    spool->sent(mid++);
  }
  for (int m = 1; m < mid; ++m) {
    spool->acknowledged(m);
  }
  ASSERT_EQ(spool->retired() + 1, spool->segments());
  auto job = spool->begin_sync();
  ASSERT_TRUE(job);
  const auto syncs_before = disk.sync_calls();
  auto result = job();
  EXPECT_FALSE(result) << result.message();
  EXPECT_EQ(disk.sync_calls(), syncs_before + 1) << "only the segment that is left";
  spool->end_sync(result);
  EXPECT_EQ(spool->segments(), 1u);
  EXPECT_EQ(test_support::segment_files(disk).size(), 1u);
}

// A failed sync promises nothing about what it covered: the segment takes no more records, the next
// message starts a new one, and nothing is lost for this process.
TEST(MqttSpoolSync, AFailedJobEndsTheSegmentItCovered) {
  test::SimDisk disk;
  auto spool = Spool::open(disk);
  ASSERT_TRUE(spool);
  spool->push(message(1));
  auto job = spool->begin_sync();
  ASSERT_TRUE(job);
  disk.fail_next(std::make_error_code(std::errc::io_error));
  auto result = job();
  EXPECT_EQ(result, std::errc::io_error);
  spool->end_sync(result);
  EXPECT_EQ(spool->counters().write_errors, 1u);
  const auto segments = spool->segments();
  EXPECT_EQ(spool->push(message(2)), 0u);
  EXPECT_EQ(spool->segments(), segments + 1) << "a new segment for what comes after the failure";
  int mid = 1;
  std::vector<std::string> out;
  while (spool->front() != nullptr) {
    out.push_back(spool->front()->payload);
    spool->sent(mid++);
  }
  EXPECT_EQ(out, (std::vector<std::string>{"payload 1", "payload 2"}));
}

}  // namespace
}  // namespace fg::mqtt
