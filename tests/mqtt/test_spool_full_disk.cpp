// The spool on a real, small tmpfs (tests/support/small_tmpfs.hpp): a full disk while a group commit is
// under way. The gateway runs the commit's fdatasync on libuv's threadpool (Spool::begin_sync), and the
// job holds descriptors of the segments it syncs until the loop thread hears it ended; a segment dropped
// meanwhile to make room must still give its space back at once, or the newest readings are refused.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/spool.hpp"
#include "storage/posix_disk.hpp"
#include "tests/mqtt/spool_test_support.hpp"
#include "tests/support/small_tmpfs.hpp"

namespace fg::mqtt {
namespace {

TEST(MqttSpoolFullDisk, TheNewestMessagesFindRoomWhileASyncJobHoldsTheSegmentsDroppedForThem) {
  test::SmallTmpfs fs(256);
  if (!fs.mounted()) {
    GTEST_SKIP() << fs.why();
  }
  auto disk = storage::PosixDisk::open(fs.path());
  ASSERT_TRUE(disk) << disk.error().message();
  std::vector<std::string> log;
  auto spool = Spool::open(*disk, {.segment_bytes = 32 * 1024},
                           [&](std::string_view line) { log.emplace_back(line); });
  ASSERT_TRUE(spool);
  const std::string padding(200, 'p');
  std::optional<storage::Disk::SyncJob> under_way;
  std::size_t refused = 0;
  const int total = 8000;  // about 1.8 MiB of records: seven times the disk
  for (int i = 0; i < total; ++i) {
    if (i % 1000 == 0) {
      // The commit under way ends (its descriptors close), and the next one starts and stays under way
      // while about a disk's worth of messages is pushed: it holds every segment written since the last,
      // and those are the ones dropped to make room meanwhile (a slow card's fdatasync under load).
      if (under_way && *under_way) {  // empty when nothing was pending
        std::error_code result = (*under_way)();
        EXPECT_FALSE(result) << result.message();
        spool->end_sync(result);
      }
      under_way.emplace(spool->begin_sync());
    }
    Publication m = test_support::message(i);
    m.payload += padding;
    refused += spool->push(std::move(m));
  }
  under_way.reset();
  EXPECT_EQ(refused, 0u) << "new messages refused while older ones could have made room";
  EXPECT_GT(spool->counters().dropped, 0u) << "the disk filled: the oldest went";
  EXPECT_EQ(spool->size() + spool->counters().dropped, static_cast<std::size_t>(total));
  int mid = 1;
  auto left = test_support::take_all(*spool, mid);
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.back(), "payload " + std::to_string(total - 1) + padding);
  // One drop episode for the whole time the disk stayed full, not one per segment given up.
  ASSERT_EQ(log.size(), 1u) << log.back();
  EXPECT_EQ(log[0].rfind("spool: the disk is full (", 0), 0u) << log[0];
}

}  // namespace
}  // namespace fg::mqtt
