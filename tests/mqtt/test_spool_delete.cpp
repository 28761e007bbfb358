// The deletion of acknowledged segments on a real directory, with the group commit run the way the
// gateway runs it (loop::BackgroundJob on libuv's threadpool): when a segment's last acknowledgement
// arrives the loop thread makes no sync call; the commit's job deletes the segment after writing the
// owner's checkpoint. Its crash safety is tested on the simulated disk (test_spool.cpp,
// tests/gateway/test_seq_checkpoint.cpp).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "loop/background_job.hpp"
#include "mqtt/spool.hpp"
#include "storage/posix_disk.hpp"
#include "tests/mqtt/spool_test_support.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::mqtt {
namespace {

// A counting wrapper around the real PosixDisk (not a fake): every call is passed on, and the calls that
// sync (fdatasync, or the directory's fsync: sync, replace, truncate, rename, remove, discard) are
// counted. Jobs are made by the PosixDisk and do their syncs with descriptors of their own, wherever they
// run: a call counted here is a sync on the caller's thread.
class CountingDisk final : public storage::Disk {
 public:
  explicit CountingDisk(storage::PosixDisk& disk) : disk_(disk) {}
  int syncing_calls = 0;

  std::expected<std::string, std::error_code> read(std::string_view name) override {
    return disk_.read(name);
  }
  std::error_code append(std::string_view name, std::string_view bytes) override {
    return disk_.append(name, bytes);
  }
  std::error_code sync(std::string_view name) override { return counted(disk_.sync(name)); }
  std::expected<SyncJob, std::error_code> sync_job(std::string_view name) override {
    return disk_.sync_job(name);
  }
  std::error_code replace(std::string_view name, std::string_view bytes) override {
    return counted(disk_.replace(name, bytes));
  }
  std::error_code truncate(std::string_view name, std::uint64_t size) override {
    return counted(disk_.truncate(name, size));
  }
  std::error_code rename(std::string_view from, std::string_view to) override {
    return counted(disk_.rename(from, to));
  }
  std::error_code remove(std::string_view name) override { return counted(disk_.remove(name)); }
  std::error_code discard(std::string_view name) override { return counted(disk_.discard(name)); }
  std::expected<SyncJob, std::error_code> replace_job(std::string_view name, std::string bytes) override {
    return disk_.replace_job(name, std::move(bytes));
  }
  std::expected<SyncJob, std::error_code> discard_job(std::vector<std::string> names) override {
    return disk_.discard_job(std::move(names));
  }
  std::expected<std::vector<std::string>, std::error_code> list() override { return disk_.list(); }

 private:
  std::error_code counted(std::error_code ec) {
    ++syncing_calls;
    return ec;
  }
  storage::PosixDisk& disk_;
};

class SpoolDeleteTest : public test::LoopTest {
 protected:
  // One group commit as the gateway runs it: begin_sync() here, its job on libuv's threadpool,
  // end_sync() back on this thread.
  void group_commit(Spool& spool) {
    if (auto job = spool.begin_sync()) {
      ASSERT_TRUE(commit_.start(std::move(job), [&](std::error_code ec) { spool.end_sync(ec); }));
      loop.run();
    }
  }

  // Pushes `n` messages, hands them out and acknowledges them all.
  static void acknowledged_messages(Spool& spool, int n) {
    for (int i = 0; i < n; ++i) {
      spool.push(test_support::message(i));
    }
    int mid = 1;
    test_support::take_all(spool, mid);
    for (int m = 1; m < mid; ++m) {
      spool.acknowledged(m);
    }
  }

  loop::BackgroundJob commit_{loop};
};

TEST_F(SpoolDeleteTest, TheLastAcknowledgementOfASegmentMakesNoSyncOnTheLoopThread) {
  test::TempDir tmp;
  auto posix = storage::PosixDisk::open(tmp.path()).value();
  CountingDisk disk(posix);
  int checkpoints_on_the_loop = 0;
  int checkpoint_jobs = 0;
  SpoolHooks hooks{.recovered = {},
                   .before_delete = [&] { ++checkpoints_on_the_loop; },
                   .checkpoint_job =
                       [&] {
                         ++checkpoint_jobs;
                         return disk.replace_job("checkpoint", "state " + std::to_string(checkpoint_jobs));
                       },
                   .appended = {}};
  auto spool = Spool::open(disk, {.segment_bytes = 300}, {}, hooks);
  ASSERT_TRUE(spool);
  for (int i = 0; i < 20; ++i) {
    spool->push(test_support::message(i));
  }
  group_commit(*spool);
  const auto segments = spool->segments();
  ASSERT_GE(segments, 3u);
  const auto first_segment = std::filesystem::path(tmp.path()) / "seg-0000000000000001";
  ASSERT_TRUE(std::filesystem::exists(first_segment));

  int mid = 1;
  test_support::take_all(*spool, mid);
  const int before = disk.syncing_calls;
  for (int m = 1; m < mid; ++m) {
    spool->acknowledged(m);
  }
  EXPECT_EQ(disk.syncing_calls, before) << "no fdatasync, fsync, rename or unlink on the loop thread";
  EXPECT_EQ(checkpoints_on_the_loop, 0);
  EXPECT_EQ(spool->retired(), segments - 1);
  EXPECT_TRUE(std::filesystem::exists(first_segment)) << "deleted by the next commit, not here";

  group_commit(*spool);
  EXPECT_EQ(disk.syncing_calls, before) << "handing out the commit's job syncs nothing either";
  EXPECT_EQ(checkpoints_on_the_loop, 0);
  EXPECT_EQ(checkpoint_jobs, 1) << "one checkpoint for all the segments the commit deletes";
  EXPECT_EQ(test::read_file(tmp / "checkpoint"), "state 1");
  EXPECT_FALSE(std::filesystem::exists(first_segment));
  EXPECT_EQ(spool->segments(), 1u);
  EXPECT_EQ(spool->retired(), 0u);
  EXPECT_EQ(spool->counters().segments_deleted, segments - 1);
  EXPECT_EQ(spool->counters().write_errors, 0u);
}

// A checkpoint job that fails keeps the segments (their seqs are not durable elsewhere); the next
// commit tries again and deletes them.
TEST_F(SpoolDeleteTest, AFailedCheckpointKeepsTheSegmentsForTheNextCommit) {
  test::TempDir tmp;
  auto posix = storage::PosixDisk::open(tmp.path()).value();
  bool fail = true;
  std::vector<std::string> log;
  SpoolHooks hooks{
      .recovered = {},
      .before_delete = {},
      .checkpoint_job = [&]() -> std::expected<storage::Disk::SyncJob, std::error_code> {
        if (fail) {
          return storage::Disk::SyncJob([] { return std::make_error_code(std::errc::no_space_on_device); });
        }
        return posix.replace_job("checkpoint", "ok");
      },
      .appended = {}};
  auto spool = Spool::open(
      posix, {.segment_bytes = 300}, [&](std::string_view line) { log.emplace_back(line); }, hooks);
  ASSERT_TRUE(spool);
  acknowledged_messages(*spool, 20);
  const auto retired = spool->retired();
  ASSERT_GT(retired, 0u);
  group_commit(*spool);
  EXPECT_EQ(spool->retired(), retired) << "kept: the checkpoint is not durable";
  EXPECT_TRUE(std::filesystem::exists(tmp / "seg-0000000000000001"));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("acknowledged segments are kept"), std::string::npos) << log[0];
  fail = false;
  spool->push(test_support::message(99));  // something to commit
  group_commit(*spool);
  EXPECT_EQ(spool->retired(), 0u);
  EXPECT_FALSE(std::filesystem::exists(tmp / "seg-0000000000000001"));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1], "spool: acknowledged segments are deleted again");
}

}  // namespace
}  // namespace fg::mqtt
