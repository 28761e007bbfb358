// RecordFile and RecordFileImage: create, append, sync, open after a restart or a crash, torn and corrupt
// tails, failures. The tests of the first part run on both disks: SimDisk and PosixDisk on real files.

#include "storage/record_file.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "storage/error.hpp"
#include "storage/posix_disk.hpp"
#include "tests/storage/sim_disk.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::storage {
namespace {

namespace rf = record_format;
using test::SimDisk;

constexpr FileFormat kFormat{.magic = "FGTEST\n\n", .version = 2, .oldest_version = 2, .max_payload = 1000};

std::string record(std::string_view payload) {
  std::string out;
  rf::append_record(out, payload);
  return out;
}

struct Read {
  std::vector<std::string> payloads;
  std::vector<std::uint64_t> offsets;
};

// Opens `name` and collects its records.
std::expected<OpenedRecordFile, std::error_code> open_collecting(Disk& disk, const std::string& name,
                                                                 Read& read, FileFormat format = kFormat) {
  return RecordFile::open(disk, name, format, [&](std::string_view payload, std::uint64_t offset) {
    read.payloads.emplace_back(payload);
    read.offsets.push_back(offset);
  });
}

enum class DiskKind { sim, posix };

class RecordFileTest : public ::testing::TestWithParam<DiskKind> {
 protected:
  void SetUp() override { restart(); }

  Disk& disk() {
    if (GetParam() == DiskKind::sim) {
      return sim_;
    }
    return *posix_;
  }

  // A clean restart of the process: the page cache survives, so nothing is lost.
  void restart() {
    if (GetParam() == DiskKind::posix) {
      posix_.reset();
      auto disk = PosixDisk::open(tmp_ / "state");
      ASSERT_TRUE(disk) << disk.error().message();
      posix_.emplace(std::move(*disk));
    }
  }

  // Writes a file behind the disk's back (another program, bit rot).
  void put_file(const std::string& name, const std::string& bytes) {
    if (GetParam() == DiskKind::sim) {
      sim_.put_durable(name, bytes);
    } else {
      posix_.reset();
      test::write_file(tmp_ / "state" / name, bytes);
      restart();
    }
  }

  std::string file(std::string_view name) { return disk().read(name).value_or("<absent>"); }

  test::TempDir tmp_;
  SimDisk sim_;
  std::optional<PosixDisk> posix_;
};

INSTANTIATE_TEST_SUITE_P(Disks, RecordFileTest, ::testing::Values(DiskKind::sim, DiskKind::posix),
                         [](const auto& info) { return info.param == DiskKind::sim ? "sim" : "posix"; });

TEST_P(RecordFileTest, CreateWritesTheHeaderAlone) {
  ASSERT_FALSE(disk().append("seg", "an older file of that name"));
  auto file = RecordFile::create(disk(), "seg", kFormat);
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ(this->file("seg"), rf::encode_header(kFormat.magic, 2));
  EXPECT_EQ(file->size(), rf::kHeaderBytes);
  EXPECT_EQ(file->record_bytes(), 0u);
  EXPECT_EQ(file->name(), "seg");
  EXPECT_FALSE(file->pending());
}

TEST_P(RecordFileTest, RecordsRoundTripThroughARestart) {
  std::vector<std::string> payloads{"one", "", std::string("\0\xff\n\r", 4), std::string(1000, 'x')};
  {
    auto file = RecordFile::create(disk(), "seg", kFormat).value();
    for (const auto& payload : payloads) {
      ASSERT_FALSE(file.append(payload));
    }
    EXPECT_TRUE(file.pending());
    ASSERT_FALSE(file.sync());
    EXPECT_FALSE(file.pending());
    EXPECT_FALSE(file.sync());  // nothing to do is success
  }
  restart();
  Read read;
  auto opened = open_collecting(disk(), "seg", read);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(read.payloads, payloads);
  EXPECT_EQ(read.offsets, (std::vector<std::uint64_t>{16, 27, 35, 47}));
  EXPECT_EQ(opened->version, 2u);
  EXPECT_EQ(opened->scan.records, 4u);
  EXPECT_EQ(opened->scan.tail, Tail::clean);
  EXPECT_TRUE(opened->damaged.empty());
  EXPECT_EQ(opened->file.size(), file("seg").size());
  EXPECT_FALSE(opened->file.tail_damaged());
  // Appends go on after the last record.
  ASSERT_FALSE(opened->file.append("five"));
  ASSERT_FALSE(opened->file.sync());
  Read again;
  ASSERT_TRUE(open_collecting(disk(), "seg", again));
  EXPECT_EQ(again.payloads.size(), 5u);
  EXPECT_EQ(again.payloads.back(), "five");
}

TEST_P(RecordFileTest, OpenOfAnAbsentFileSaysSo) {
  auto opened = RecordFile::open(disk(), "absent", kFormat);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), std::errc::no_such_file_or_directory);
}

TEST_P(RecordFileTest, OpenRefusesOtherVersionsAndDamagedHeadersAndTouchesNothing) {
  struct Case {
    std::string bytes;
    std::error_code expected;
  };
  std::string body = record("payload");
  std::vector<Case> cases{
      {rf::encode_header(kFormat.magic, 3) + body, StorageError::newer_format},
      {rf::encode_header(kFormat.magic, 1) + "an older framing", StorageError::older_format},
      {rf::encode_header(kFormat.magic, 2).substr(0, 9), StorageError::torn_header},
      {"", StorageError::torn_header},
      {rf::encode_header("FGOTHER\n", 2) + body, StorageError::bad_magic},
      {rf::encode_header(kFormat.magic, 0) + body, StorageError::bad_version},
  };
  std::string bad_crc = rf::encode_header(kFormat.magic, 2) + body;
  bad_crc[12] ^= 1;
  cases.push_back({bad_crc, StorageError::bad_header_crc});
  for (const auto& c : cases) {
    put_file("seg", c.bytes);
    auto opened = RecordFile::open(disk(), "seg", kFormat);
    ASSERT_FALSE(opened) << c.expected.message();
    EXPECT_EQ(opened.error(), c.expected);
    EXPECT_EQ(file("seg"), c.bytes);
  }
}

TEST_P(RecordFileTest, ATornTailIsFoundAndCutBeforeAnythingIsAppended) {
  std::string intact = rf::encode_header(kFormat.magic, 2) + record("one") + record("two");
  std::string torn = record("three").substr(0, 6);
  put_file("seg", intact + torn);
  Read read;
  auto opened = open_collecting(disk(), "seg", read);
  ASSERT_TRUE(opened);
  EXPECT_EQ(read.payloads, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(opened->scan.tail, Tail::torn);
  EXPECT_EQ(opened->scan.intact_bytes, intact.size());
  EXPECT_EQ(opened->damaged, torn);
  EXPECT_EQ(file("seg"), intact + torn);  // open() changes nothing
  RecordFile& f = opened->file;
  EXPECT_TRUE(f.tail_damaged());
  EXPECT_EQ(f.append("four"), StorageError::damaged_tail);
  ASSERT_FALSE(f.cut_tail());
  EXPECT_FALSE(f.tail_damaged());
  EXPECT_EQ(file("seg"), intact);
  ASSERT_FALSE(f.append("four"));
  ASSERT_FALSE(f.sync());
  Read after;
  auto reopened = open_collecting(disk(), "seg", after);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(after.payloads, (std::vector<std::string>{"one", "two", "four"}));
  EXPECT_EQ(reopened->scan.tail, Tail::clean);
}

TEST_P(RecordFileTest, DamageBeforeIntactRecordsIsCorruptAndTheOwnerCanSetTheFileAside) {
  std::string header = rf::encode_header(kFormat.magic, 2);
  std::string bytes = header + record("one") + record("two") + record("three");
  bytes[header.size() + record("one").size() + 9] ^= 1;
  put_file("seg", bytes);
  Read read;
  auto opened = open_collecting(disk(), "seg", read);
  ASSERT_TRUE(opened);
  EXPECT_EQ(read.payloads, std::vector<std::string>{"one"});
  EXPECT_EQ(opened->scan.tail, Tail::corrupt);
  EXPECT_EQ(opened->damaged, bytes.substr(header.size() + record("one").size()));
  EXPECT_EQ(opened->file.append("x"), StorageError::damaged_tail);
  ASSERT_FALSE(disk().rename("seg", "seg.corrupt"));
  EXPECT_EQ(file("seg.corrupt"), bytes);
}

TEST_P(RecordFileTest, TooLargeARecordIsRefusedAndNothingIsWritten) {
  auto file = RecordFile::create(disk(), "seg", kFormat).value();
  EXPECT_EQ(file.append(std::string(1001, 'x')), StorageError::record_too_large);
  EXPECT_EQ(file.append(std::string(1001, 'x')), std::errc::value_too_large);
  EXPECT_FALSE(file.pending());
  EXPECT_EQ(this->file("seg").size(), rf::kHeaderBytes);
  EXPECT_FALSE(file.append("fits"));  // the file still works
}

TEST_P(RecordFileTest, ClearEmptiesTheFileDownToItsHeader) {
  auto file = RecordFile::create(disk(), "seg", kFormat).value();
  ASSERT_FALSE(file.append("one"));
  ASSERT_FALSE(file.sync());
  ASSERT_FALSE(file.clear());
  EXPECT_EQ(file.record_bytes(), 0u);
  EXPECT_EQ(this->file("seg"), rf::encode_header(kFormat.magic, 2));
  ASSERT_FALSE(file.append("two"));
  ASSERT_FALSE(file.sync());
  Read read;
  ASSERT_TRUE(open_collecting(disk(), "seg", read));
  EXPECT_EQ(read.payloads, std::vector<std::string>{"two"});
}

TEST_P(RecordFileTest, AnImageIsWrittenWholeAndReadLikeAnyRecordFile) {
  RecordFileImage image(kFormat);
  ASSERT_FALSE(image.add("a"));
  ASSERT_FALSE(image.add("b"));
  EXPECT_EQ(image.add(std::string(1001, 'x')), StorageError::record_too_large);
  EXPECT_EQ(image.bytes(), rf::encode_header(kFormat.magic, 2) + record("a") + record("b"));
  ASSERT_FALSE(image.write(disk(), "state"));
  Read read;
  auto opened = open_collecting(disk(), "state", read);
  ASSERT_TRUE(opened);
  EXPECT_EQ(read.payloads, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(opened->scan.tail, Tail::clean);
}

// ---------------------------------------------------------------------------------------------------
// SimDisk only: failures and crashes.

TEST(RecordFileFaults, AFailedAppendIsCutBackAndTheNextRecordFollowsTheLastGoodOne) {
  SimDisk disk;
  auto file = RecordFile::create(disk, "seg", kFormat).value();
  ASSERT_FALSE(file.append("one"));
  disk.fail_next(std::make_error_code(std::errc::no_space_on_device), 5);  // a short write, then ENOSPC
  EXPECT_EQ(file.append("two"), std::errc::no_space_on_device);
  EXPECT_FALSE(file.failed());
  ASSERT_FALSE(file.append("three"));
  ASSERT_FALSE(file.sync());
  Read read;
  auto opened = open_collecting(disk, "seg", read);
  ASSERT_TRUE(opened);
  EXPECT_EQ(read.payloads, (std::vector<std::string>{"one", "three"}));
  EXPECT_EQ(opened->scan.tail, Tail::clean);
}

TEST(RecordFileFaults, AFullDiskRefusesAppendsWithoutDamagingTheFile) {
  SimDisk disk;
  auto file = RecordFile::create(disk, "seg", kFormat).value();
  disk.set_capacity(rf::kHeaderBytes + 20);
  ASSERT_FALSE(file.append("0123456789"));  // 18 bytes
  EXPECT_EQ(file.append("0123456789"), std::errc::no_space_on_device);
  EXPECT_EQ(file.append("0123456789"), std::errc::no_space_on_device);
  ASSERT_FALSE(file.sync());
  Read read;
  auto opened = open_collecting(disk, "seg", read);
  ASSERT_TRUE(opened);
  EXPECT_EQ(read.payloads, std::vector<std::string>{"0123456789"});
  EXPECT_EQ(opened->scan.tail, Tail::clean);
}

TEST(RecordFileFaults, WhenTheCutAfterAFailedAppendFailsTooTheFileRefusesWrites) {
  SimDisk disk;
  auto file = RecordFile::create(disk, "seg", kFormat).value();
  disk.fail_next(std::make_error_code(std::errc::no_space_on_device), 5);
  disk.halt_after(1);  // the append goes through (and fails as injected), the cut after it does not
  EXPECT_EQ(file.append("two"), std::errc::no_space_on_device);
  EXPECT_TRUE(file.failed());
  EXPECT_EQ(file.append("x"), StorageError::file_failed);
  EXPECT_EQ(file.sync(), StorageError::file_failed);
}

TEST(RecordFileFaults, AfterAFailedSyncTheFileRefusesWritesAndAReopenShowsWhatSurvived) {
  SimDisk disk;
  auto file = RecordFile::create(disk, "seg", kFormat).value();
  ASSERT_FALSE(file.append("synced"));
  ASSERT_FALSE(file.sync());
  ASSERT_FALSE(file.append("unsynced"));
  disk.fail_next(std::make_error_code(std::errc::io_error));
  EXPECT_EQ(file.sync(), std::errc::io_error);
  EXPECT_TRUE(file.failed());
  EXPECT_EQ(file.append("more"), StorageError::file_failed);
  EXPECT_EQ(file.sync(), StorageError::file_failed);
  EXPECT_EQ(file.cut_tail(), StorageError::file_failed);
  EXPECT_EQ(file.clear(), StorageError::file_failed);
  std::mt19937_64 rng(7);
  disk.crash(rng);
  Read read;
  auto opened = open_collecting(disk, "seg", read);
  ASSERT_TRUE(opened);
  ASSERT_FALSE(read.payloads.empty());
  EXPECT_EQ(read.payloads[0], "synced");
}

TEST(RecordFileFaults, ACrashLosesOnlyUnsyncedRecordsAndLeavesAtMostATornTail) {
  int torn = 0;
  int lost_some = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    SimDisk disk;
    std::mt19937_64 rng(seed);
    auto file = RecordFile::create(disk, "seg", kFormat).value();
    std::vector<std::string> written;
    std::size_t synced = 0;
    int n = std::uniform_int_distribution<int>(1, 20)(rng);
    for (int i = 0; i < n; ++i) {
      written.push_back(std::string(std::uniform_int_distribution<std::size_t>(0, 40)(rng), 'a' + i));
      ASSERT_FALSE(file.append(written.back()));
      if (std::bernoulli_distribution(0.3)(rng)) {
        ASSERT_FALSE(file.sync());
        synced = written.size();
      }
    }
    disk.crash(rng);
    Read read;
    auto opened = open_collecting(disk, "seg", read);
    ASSERT_TRUE(opened) << seed << ": " << opened.error().message();
    // Every synced record survives, and what survives is a prefix of what was written.
    ASSERT_GE(read.payloads.size(), synced) << seed;
    ASSERT_LE(read.payloads.size(), written.size()) << seed;
    for (std::size_t i = 0; i < read.payloads.size(); ++i) {
      ASSERT_EQ(read.payloads[i], written[i]) << seed;
    }
    ASSERT_NE(opened->scan.tail, Tail::corrupt) << seed;
    torn += opened->scan.tail == Tail::torn;
    lost_some += read.payloads.size() < written.size();
    ASSERT_FALSE(opened->file.cut_tail());
    ASSERT_FALSE(opened->file.append("after the crash"));
    ASSERT_FALSE(opened->file.sync());
    Read after;
    auto reopened = open_collecting(disk, "seg", after);
    ASSERT_TRUE(reopened);
    EXPECT_EQ(reopened->scan.tail, Tail::clean) << seed;
    EXPECT_EQ(after.payloads.back(), "after the crash") << seed;
  }
  // The crashes must actually bite.
  EXPECT_GT(torn, 20);
  EXPECT_GT(lost_some, 50);
}

}  // namespace
}  // namespace fg::storage
