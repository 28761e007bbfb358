// next_boot_epoch: starts at 1, grows by one, is never handed out twice across crashes, refuses damage.

#include "quorum/boot_epoch.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "quorum/disk_format.hpp"
#include "storage/posix_disk.hpp"
#include "tests/quorum/disk_format_v1_writer.hpp"
#include "tests/storage/sim_disk.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::quorum {
namespace {

using storage::Disk;
using storage::PosixDisk;
using test::SimDisk;

TEST(BootEpoch, StartsAtOneAndGrowsByOne) {
  SimDisk disk;
  EXPECT_EQ(next_boot_epoch(disk), 1u);
  EXPECT_EQ(next_boot_epoch(disk), 2u);
  EXPECT_EQ(next_boot_epoch(disk), 3u);
  EXPECT_EQ(disk.read("epoch").value(), disk_format::encode_epoch(3));
}

TEST(BootEpoch, IsWrittenBeforeItIsReturned) {
  SimDisk disk;
  auto epoch = next_boot_epoch(disk);
  ASSERT_TRUE(epoch);
  // Durable already: nothing is pending, so no crash can take it back.
  EXPECT_EQ(disk.durable("epoch"), disk_format::encode_epoch(*epoch));
  EXPECT_EQ(disk.pending("epoch"), "");
}

TEST(BootEpoch, SurvivesRealFilesAndAReopenedDirectory) {
  test::TempDir tmp;
  {
    auto disk = PosixDisk::open(tmp / "state").value();
    EXPECT_EQ(next_boot_epoch(disk), 1u);
    EXPECT_EQ(next_boot_epoch(disk), 2u);
  }
  auto disk = PosixDisk::open(tmp / "state").value();
  EXPECT_EQ(next_boot_epoch(disk), 3u);
}

// A crash at any point (the disk halts after 0, 1 or 2 operations, then loses power) never lets an epoch
// that was returned come back.
TEST(BootEpoch, IsNeverReusedAcrossCrashes) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    SimDisk disk;
    std::uint64_t highest_returned = 0;
    for (int boot = 0; boot < 20; ++boot) {
      disk.halt_after(std::uniform_int_distribution<std::size_t>(0, 3)(rng));
      auto epoch = next_boot_epoch(disk);
      if (epoch) {
        EXPECT_GT(*epoch, highest_returned);
        highest_returned = *epoch;
      } else {
        EXPECT_EQ(epoch.error(), std::errc::io_error);
      }
      disk.crash(rng);
    }
    auto after = next_boot_epoch(disk);
    ASSERT_TRUE(after);
    EXPECT_GT(*after, highest_returned);
  }
}

TEST(BootEpoch, ACorruptFileIsAnErrorAndIsLeftAlone) {
  std::string good = disk_format::encode_epoch(7);
  std::string flipped_value = good;
  flipped_value[good.size() - 1] ^= 0x01;
  std::string flipped_header = good;
  flipped_header[2] ^= 0x01;
  for (const std::string& bad : {std::string(), std::string("7\n"), good.substr(0, good.size() - 1),
                                 good + "x", flipped_value, flipped_header}) {
    SimDisk disk;
    disk.put_durable("epoch", bad);
    auto epoch = next_boot_epoch(disk);
    ASSERT_FALSE(epoch);
    EXPECT_EQ(epoch.error(), StateError::corrupt_epoch);
    EXPECT_EQ(disk.read("epoch").value(), bad);
  }
}

TEST(BootEpoch, ANewerFormatIsRefused) {
  SimDisk disk;
  std::string newer =
      storage::record_format::encode_header(disk_format::kEpochFormat.magic, 3) + "whatever version 3 holds";
  disk.put_durable("epoch", newer);
  auto epoch = next_boot_epoch(disk);
  ASSERT_FALSE(epoch);
  EXPECT_EQ(epoch.error(), StateError::newer_format);
  EXPECT_EQ(disk.read("epoch").value(), newer);
}

TEST(BootEpoch, AVersion1FileIsReadAndRewrittenAsVersion2) {
  SimDisk disk;
  disk.put_durable("epoch", test_v1::epoch(41));
  EXPECT_EQ(next_boot_epoch(disk), 42u);
  EXPECT_EQ(disk.read("epoch").value(), disk_format::encode_epoch(42));
}

TEST(BootEpoch, StopsBeforeWrappingAround) {
  SimDisk disk;
  disk.put_durable("epoch", disk_format::encode_epoch(std::numeric_limits<std::uint64_t>::max()));
  auto epoch = next_boot_epoch(disk);
  ASSERT_FALSE(epoch);
  EXPECT_EQ(epoch.error(), StateError::epoch_exhausted);
}

TEST(BootEpoch, PassesOnDiskErrors) {
  SimDisk disk;
  disk.fail_next(std::make_error_code(std::errc::permission_denied));
  auto epoch = next_boot_epoch(disk);
  ASSERT_FALSE(epoch);
  EXPECT_EQ(epoch.error(), std::errc::permission_denied);
  EXPECT_FALSE(disk.read("epoch"));
}

TEST(BootEpoch, ANewDiskStartsAtTheFloorAndAnOldOneIgnoresIt) {
  test::SimDisk disk;
  EXPECT_EQ(next_boot_epoch(disk, 1'700'000'000'000), 1'700'000'000'000u);
  EXPECT_EQ(next_boot_epoch(disk, 5), 1'700'000'000'001u);  // counting on, whatever the clock says
  test::SimDisk replaced;                                   // a new SD card, later
  EXPECT_EQ(next_boot_epoch(replaced, 1'700'000'900'000), 1'700'000'900'000u);
}

}  // namespace
}  // namespace fg::quorum
