// PosixDisk on real files in a TempDir.

#include "storage/posix_disk.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "storage/error.hpp"
#include "tests/support/small_tmpfs.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::storage {
namespace {

using test::SmallTmpfs;
using test::TempDir;

int count_open_fds() {
  int n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string file_content(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PosixDisk, CreatesAMissingDirectoryWithMode0700) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp / "state");
  ASSERT_TRUE(disk) << disk.error().message();
  EXPECT_TRUE(std::filesystem::is_directory(tmp / "state"));
  EXPECT_EQ(mode_of(tmp / "state"), 0700u);
  EXPECT_EQ(disk->dir(), tmp / "state");
}

TEST(PosixDisk, OpensAnExistingDirectoryAndItsFiles) {
  TempDir tmp;
  test::write_file(tmp / "f", "there before");
  auto disk = PosixDisk::open(tmp.path());
  ASSERT_TRUE(disk);
  EXPECT_EQ(disk->read("f").value(), "there before");
}

TEST(PosixDisk, FailsWithoutTheParentOrOnAFile) {
  TempDir tmp;
  auto no_parent = PosixDisk::open(tmp / "missing" / "state");
  ASSERT_FALSE(no_parent);
  EXPECT_EQ(no_parent.error(), std::errc::no_such_file_or_directory);

  test::write_file(tmp / "file", "x");
  auto on_file = PosixDisk::open(tmp / "file");
  ASSERT_FALSE(on_file);
  EXPECT_EQ(on_file.error(), std::errc::not_a_directory);
}

TEST(PosixDisk, ReadOfAnAbsentFileIsNoSuchFile) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  auto content = disk.read("absent");
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error(), std::errc::no_such_file_or_directory);
}

TEST(PosixDisk, RejectsNamesOutsideTheDirectory) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp / "state").value();
  for (std::string name : {"", ".", "..", "../escape", "a/b"}) {
    EXPECT_EQ(disk.append(name, "x"), std::errc::invalid_argument) << name;
    EXPECT_EQ(disk.read(name).error(), std::errc::invalid_argument) << name;
    EXPECT_EQ(disk.replace(name, "x"), std::errc::invalid_argument) << name;
    EXPECT_EQ(disk.remove(name), std::errc::invalid_argument) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp / "escape"));
}

TEST(PosixDisk, AppendCreatesA0600FileAndAddsToIt) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  ASSERT_FALSE(disk.append("log", "one,"));
  ASSERT_FALSE(disk.append("log", "two"));
  ASSERT_FALSE(disk.sync("log"));
  EXPECT_EQ(disk.read("log").value(), "one,two");
  EXPECT_EQ(file_content(tmp / "log"), "one,two");
  EXPECT_EQ(mode_of(tmp / "log"), 0600u);
}

TEST(PosixDisk, AppendAddsToAFileThatExistedBefore) {
  TempDir tmp;
  test::write_file(tmp / "log", "old,");
  auto disk = PosixDisk::open(tmp.path()).value();
  ASSERT_FALSE(disk.append("log", "new"));
  EXPECT_EQ(file_content(tmp / "log"), "old,new");
}

TEST(PosixDisk, KeepsOneDescriptorPerAppendedFileAndClosesThemAll) {
  TempDir tmp;
  int before = count_open_fds();
  {
    auto disk = PosixDisk::open(tmp.path()).value();
    ASSERT_FALSE(disk.append("a", "x"));
    ASSERT_FALSE(disk.append("b", "x"));
    int with_two_files = count_open_fds();
    for (int i = 0; i < 100; ++i) {
      ASSERT_FALSE(disk.append("a", "x"));
      ASSERT_FALSE(disk.append("b", "y"));
      ASSERT_FALSE(disk.sync("a"));
    }
    EXPECT_EQ(count_open_fds(), with_two_files);
    EXPECT_EQ(with_two_files, before + 3);  // The directory and the two files.
    EXPECT_EQ(disk.read("a").value().size(), 101u);
  }
  EXPECT_EQ(count_open_fds(), before);
}

TEST(PosixDisk, SyncOfAnAbsentFileFails) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  EXPECT_EQ(disk.sync("absent"), std::errc::no_such_file_or_directory);
}

// The job of a sync off the caller's thread holds descriptors of its own: it works after the file was
// removed and the disk itself is gone, on another thread, and closes them when it goes.
TEST(PosixDisk, ASyncJobOwnsItsDescriptorsAndOutlivesTheFileAndTheDisk) {
  TempDir tmp;
  int before = count_open_fds();
  {
    Disk::SyncJob job;
    {
      auto disk = PosixDisk::open(tmp.path()).value();
      ASSERT_FALSE(disk.append("a", "x"));  // a new file: the directory is synced too
      auto made = disk.sync_job("a");
      ASSERT_TRUE(made) << made.error().message();
      job = std::move(*made);
      ASSERT_FALSE(disk.remove("a"));
      EXPECT_EQ(disk.sync_job("absent").error(), std::errc::no_such_file_or_directory);
    }
    EXPECT_EQ(count_open_fds(), before + 2) << "the job's duplicates of the file and the directory";
    std::error_code result = std::make_error_code(std::errc::io_error);
    std::thread([&] { result = job(); }).join();
    EXPECT_FALSE(result) << result.message();
  }
  EXPECT_EQ(count_open_fds(), before);
}

// On a full disk, the space of a file removed while a sync job holds it stays taken until the job ends
// (the kernel frees a file's blocks with its last descriptor); discard() gives it back at once. This is
// what a spool segment dropped to make room during a group commit needs (mqtt/spool.cpp).
TEST(PosixDisk, DiscardFreesTheSpaceAtOnceWhileASyncJobStillHoldsTheFile) {
  SmallTmpfs fs(256);
  if (!fs.mounted()) {
    GTEST_SKIP() << fs.why();
  }
  auto disk = PosixDisk::open(fs.path()).value();
  const std::string chunk(150 * 1024, 'x');
  for (const char* name : {"removed", "discarded"}) {
    ASSERT_FALSE(disk.append(name, chunk)) << name;
    auto job = disk.sync_job(name);
    ASSERT_TRUE(job) << job.error().message();
    const bool discarding = std::string_view(name) == "discarded";
    ASSERT_FALSE(discarding ? disk.discard(name) : disk.remove(name));
    EXPECT_FALSE(std::filesystem::exists(fs.path() / name));
    // 150 KiB more fits in 256 KiB only if the first 150 KiB came back.
    std::error_code ec = disk.append("next", chunk);
    if (discarding) {
      EXPECT_FALSE(ec) << "discard() must free the space a sync job still holds: " << ec.message();
    } else {
      EXPECT_EQ(ec, std::errc::no_space_on_device) << "the premise: remove() alone frees nothing yet";
    }
    EXPECT_FALSE((*job)()) << "the job still syncs (an empty or removed file)";
    ASSERT_FALSE(disk.discard("next"));
  }
}

// The jobs the spool's group commit runs on libuv's threadpool to delete acknowledged segments: built on
// the disk's thread, they change nothing until they run, and then do the whole work on another thread,
// after the disk object is gone, with descriptors of their own that they close.
TEST(PosixDisk, ReplaceAndDiscardJobsWorkOnAnotherThreadWithDescriptorsOfTheirOwn) {
  TempDir tmp;
  const int before = count_open_fds();
  {
    Disk::SyncJob replace, discard;
    {
      auto disk = PosixDisk::open(tmp.path()).value();
      ASSERT_FALSE(disk.replace("seq", "old"));
      ASSERT_FALSE(disk.append("a", "aaa"));  // open for appending: the job takes a duplicate
      test::write_file(tmp / "b", "bbb");     // not open: the job opens it
      replace = disk.replace_job("seq", "new").value();
      discard = disk.discard_job({"a", "b", "never-there"}).value();
      EXPECT_FALSE(disk.discard_job({"../x"})) << "names are checked where the job is made";
      EXPECT_FALSE(disk.replace_job("a/b", ""));
      EXPECT_EQ(file_content(tmp / "seq"), "old") << "nothing happens before the job runs";
      EXPECT_TRUE(std::filesystem::exists(tmp / "a"));
      EXPECT_TRUE(std::filesystem::exists(tmp / "b"));
    }
    EXPECT_EQ(count_open_fds(), before + 4) << "two directory duplicates, the two files";
    std::error_code replaced = std::make_error_code(std::errc::io_error);
    std::error_code discarded = replaced;
    std::thread([&] {
      replaced = replace();
      discarded = discard();
    }).join();
    EXPECT_FALSE(replaced) << replaced.message();
    EXPECT_FALSE(discarded) << discarded.message();
    EXPECT_EQ(file_content(tmp / "seq"), "new");
    EXPECT_FALSE(std::filesystem::exists(tmp / "seq.tmp"));
    EXPECT_FALSE(std::filesystem::exists(tmp / "a"));
    EXPECT_FALSE(std::filesystem::exists(tmp / "b"));
    EXPECT_EQ(count_open_fds(), before + 2) << "the files' descriptors close as the job goes";
  }
  EXPECT_EQ(count_open_fds(), before);
}

// As discard(): a file the discard job deletes gives its space back even while a sync job (the group
// commit's own, or the last one's) still holds it.
TEST(PosixDisk, ADiscardJobFreesTheSpaceWhileASyncJobStillHoldsTheFile) {
  SmallTmpfs fs(256);
  if (!fs.mounted()) {
    GTEST_SKIP() << fs.why();
  }
  auto disk = PosixDisk::open(fs.path()).value();
  const std::string chunk(150 * 1024, 'x');
  ASSERT_FALSE(disk.append("old", chunk));
  auto sync = disk.sync_job("old").value();
  auto discard = disk.discard_job({"old"}).value();
  EXPECT_FALSE(discard());
  EXPECT_FALSE(std::filesystem::exists(fs.path() / "old"));
  EXPECT_FALSE(disk.append("next", chunk)) << "the space came back while the sync job holds the file";
  EXPECT_FALSE(sync());
  ASSERT_FALSE(disk.discard("next"));
}

TEST(PosixDisk, DiscardIsFineForAnAbsentFile) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  EXPECT_FALSE(disk.discard("never-there"));
  ASSERT_FALSE(disk.append("a", "abc"));
  EXPECT_FALSE(disk.discard("a"));
  EXPECT_FALSE(disk.read("a"));
  EXPECT_FALSE(disk.append("a", "new")) << "the append descriptor of the discarded file is gone";
  EXPECT_EQ(disk.read("a").value(), "new");
}

TEST(PosixDisk, SyncOfAFileNeverAppendedToWorks) {
  TempDir tmp;
  test::write_file(tmp / "f", "x");
  auto disk = PosixDisk::open(tmp.path()).value();
  EXPECT_FALSE(disk.sync("f"));
}

TEST(PosixDisk, ReplaceWritesTheWholeFileAndLeavesNoTemporary) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  ASSERT_FALSE(disk.replace("snapshot", "first"));
  ASSERT_FALSE(disk.replace("snapshot", "second"));
  EXPECT_EQ(disk.read("snapshot").value(), "second");
  EXPECT_EQ(mode_of(tmp / "snapshot"), 0600u);
  EXPECT_FALSE(std::filesystem::exists(tmp / "snapshot.tmp"));
}

TEST(PosixDisk, ReplaceOverwritesALeftoverTemporary) {
  TempDir tmp;
  test::write_file(tmp / "snapshot.tmp", "left by a crash, much longer than the new content");
  auto disk = PosixDisk::open(tmp.path()).value();
  ASSERT_FALSE(disk.replace("snapshot", "new"));
  EXPECT_EQ(disk.read("snapshot").value(), "new");
  EXPECT_FALSE(std::filesystem::exists(tmp / "snapshot.tmp"));
}

TEST(PosixDisk, AppendAfterReplaceGoesToTheNewFile) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  ASSERT_FALSE(disk.append("log", "old records"));
  ASSERT_FALSE(disk.replace("log", "header|"));
  ASSERT_FALSE(disk.append("log", "record"));
  EXPECT_EQ(file_content(tmp / "log"), "header|record");
}

TEST(PosixDisk, TruncateCutsAndLaterAppendsFollowTheNewEnd) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  EXPECT_EQ(disk.truncate("log", 0), std::errc::no_such_file_or_directory);
  ASSERT_FALSE(disk.append("log", "header|garbage"));
  ASSERT_FALSE(disk.truncate("log", 7));
  ASSERT_FALSE(disk.append("log", "record"));
  EXPECT_EQ(file_content(tmp / "log"), "header|record");
}

TEST(PosixDisk, TruncateWorksOnAFileNotOpenForAppending) {
  TempDir tmp;
  test::write_file(tmp / "f", "0123456789");
  auto disk = PosixDisk::open(tmp.path()).value();
  ASSERT_FALSE(disk.truncate("f", 3));
  EXPECT_EQ(file_content(tmp / "f"), "012");
}

TEST(PosixDisk, RenameMovesAndReplaces) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  EXPECT_EQ(disk.rename("absent", "b"), std::errc::no_such_file_or_directory);
  ASSERT_FALSE(disk.append("a", "from a"));
  ASSERT_FALSE(disk.replace("b", "old b"));
  ASSERT_FALSE(disk.rename("a", "b"));
  EXPECT_EQ(disk.read("b").value(), "from a");
  EXPECT_FALSE(std::filesystem::exists(tmp / "a"));
  // The append descriptor of "a" was dropped: a new append makes a new "a".
  ASSERT_FALSE(disk.append("a", "new a"));
  EXPECT_EQ(file_content(tmp / "a"), "new a");
  EXPECT_EQ(file_content(tmp / "b"), "from a");
}

TEST(PosixDisk, RemoveIsFineForAnAbsentFile) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  EXPECT_FALSE(disk.remove("absent"));
  ASSERT_FALSE(disk.append("f", "x"));
  ASSERT_FALSE(disk.remove("f"));
  EXPECT_FALSE(std::filesystem::exists(tmp / "f"));
  ASSERT_FALSE(disk.append("f", "again"));
  EXPECT_EQ(file_content(tmp / "f"), "again");
}

TEST(PosixDisk, WithSyncDisabledSyncSkipsFdatasyncButDataIsWritten) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path(), PosixDiskOptions{.sync_enabled = false}).value();
  ASSERT_FALSE(disk.append("log", "fast"));
  EXPECT_FALSE(disk.sync("log"));
  EXPECT_FALSE(disk.sync("absent"));  // Not even opened: sync does nothing at all.
  EXPECT_EQ(file_content(tmp / "log"), "fast");
}

TEST(PosixDisk, AMovedDiskKeepsWorking) {
  TempDir tmp;
  auto opened = PosixDisk::open(tmp.path());
  ASSERT_TRUE(opened);
  PosixDisk disk = std::move(*opened);
  ASSERT_FALSE(disk.append("log", "x"));
  ASSERT_FALSE(disk.sync("log"));
  EXPECT_EQ(disk.read("log").value(), "x");
}

TEST(PosixDisk, ListsTheRegularFilesSorted) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp / "state").value();
  EXPECT_EQ(disk.list().value(), std::vector<std::string>{});
  ASSERT_FALSE(disk.append("seg-000002", "x"));
  ASSERT_FALSE(disk.replace("seg-000001", "y"));
  test::write_file(tmp / "state" / "left.tmp", "a crash's leftover is listed too");
  std::filesystem::create_directory(tmp / "state" / "subdir");
  std::filesystem::create_symlink("seg-000001", tmp / "state" / "link");
  EXPECT_EQ(disk.list().value(), (std::vector<std::string>{"left.tmp", "seg-000001", "seg-000002"}));
  ASSERT_FALSE(disk.remove("seg-000002"));
  EXPECT_EQ(disk.list().value(), (std::vector<std::string>{"left.tmp", "seg-000001"}));
  // Listing twice gives the same names: the directory offset is not shared with an earlier listing.
  EXPECT_EQ(disk.list().value(), disk.list().value());
}

TEST(PosixDisk, ListingClosesWhatItOpens) {
  TempDir tmp;
  auto disk = PosixDisk::open(tmp.path()).value();
  ASSERT_FALSE(disk.replace("f", "x"));
  int before = count_open_fds();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(disk.list());
  }
  EXPECT_EQ(count_open_fds(), before);
}

TEST(PosixDisk, ExclusiveRefusesASecondOpenUntilTheFirstIsGone) {
  TempDir tmp;
  int before = count_open_fds();
  {
    auto first = PosixDisk::open(tmp / "state", PosixDiskOptions{.exclusive = true});
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(std::filesystem::exists(tmp / "state" / "lock"));
    EXPECT_EQ(mode_of(tmp / "state" / "lock"), 0600u);
    auto second = PosixDisk::open(tmp / "state", PosixDiskOptions{.exclusive = true});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), StorageError::in_use);
    EXPECT_EQ(second.error(), std::errc::device_or_resource_busy);
    // Without the option nothing is locked or checked (a reader that only looks).
    EXPECT_TRUE(PosixDisk::open(tmp / "state"));
    // A moved disk keeps the lock.
    PosixDisk moved = std::move(*first);
    EXPECT_FALSE(PosixDisk::open(tmp / "state", PosixDiskOptions{.exclusive = true}));
  }
  EXPECT_EQ(count_open_fds(), before);
  EXPECT_TRUE(PosixDisk::open(tmp / "state", PosixDiskOptions{.exclusive = true}));
}

}  // namespace
}  // namespace fg::storage
