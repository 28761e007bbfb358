// SimDisk's semantics: what read() sees, what a crash keeps, and that a crash is deterministic.

#include "tests/storage/sim_disk.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace fg::test {
namespace {

TEST(SimDisk, ReadOfAbsentFileIsNoSuchFile) {
  SimDisk disk;
  auto content = disk.read("nothing");
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error(), std::errc::no_such_file_or_directory);
}

TEST(SimDisk, RejectsNamesWithSlashesAndDots) {
  SimDisk disk;
  for (std::string name : {"", ".", "..", "a/b", "/abs"}) {
    EXPECT_EQ(disk.append(name, "x"), std::errc::invalid_argument) << name;
    EXPECT_EQ(disk.read(name).error(), std::errc::invalid_argument) << name;
  }
  EXPECT_TRUE(disk.names().empty());
}

TEST(SimDisk, AppendIsVisibleAtOnceButPendingUntilSync) {
  SimDisk disk;
  ASSERT_FALSE(disk.append("f", "abc"));
  ASSERT_FALSE(disk.append("f", "def"));
  EXPECT_EQ(disk.read("f").value(), "abcdef");
  EXPECT_EQ(disk.durable("f"), "");
  EXPECT_EQ(disk.pending("f"), "abcdef");
  ASSERT_FALSE(disk.sync("f"));
  EXPECT_EQ(disk.durable("f"), "abcdef");
  EXPECT_EQ(disk.pending("f"), "");
  EXPECT_EQ(disk.sync_calls(), 1u);
  EXPECT_EQ(disk.appended_bytes(), 6u);
}

TEST(SimDisk, SyncOfAbsentFileFails) {
  SimDisk disk;
  EXPECT_EQ(disk.sync("f"), std::errc::no_such_file_or_directory);
}

TEST(SimDisk, CrashKeepsSyncedBytesAndAPrefixOfTheRest) {
  std::set<std::size_t> kept_lengths;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SimDisk disk;
    ASSERT_FALSE(disk.append("f", "synced|"));
    ASSERT_FALSE(disk.sync("f"));
    ASSERT_FALSE(disk.append("f", "0123456789"));
    std::mt19937_64 rng(seed);
    disk.crash(rng);
    std::string content = disk.read("f").value();
    ASSERT_TRUE(content.starts_with("synced|")) << seed;
    std::string tail = content.substr(7);
    EXPECT_TRUE(std::string("0123456789").starts_with(tail)) << seed << ": " << tail;
    EXPECT_EQ(disk.pending("f"), "");
    kept_lengths.insert(tail.size());
  }
  // All lost, all kept and cuts in between all happen.
  EXPECT_TRUE(kept_lengths.contains(0));
  EXPECT_TRUE(kept_lengths.contains(10));
  EXPECT_GE(kept_lengths.size(), 5u);
}

TEST(SimDisk, NeverSyncedFileMayVanishInACrash) {
  int vanished = 0;
  int kept = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    SimDisk disk;
    ASSERT_FALSE(disk.append("new", "data"));
    std::mt19937_64 rng(seed);
    disk.crash(rng);
    auto content = disk.read("new");
    if (content) {
      ++kept;
      EXPECT_TRUE(std::string("data").starts_with(*content));
    } else {
      ++vanished;
      EXPECT_EQ(content.error(), std::errc::no_such_file_or_directory);
    }
  }
  EXPECT_GT(vanished, 0);
  EXPECT_GT(kept, 0);
}

TEST(SimDisk, CrashIsDeterministicForASeed) {
  auto run = [](std::uint64_t seed) {
    SimDisk disk;
    EXPECT_FALSE(disk.append("a", std::string(1000, 'a')));
    EXPECT_FALSE(disk.append("b", std::string(1000, 'b')));
    EXPECT_FALSE(disk.sync("b"));
    EXPECT_FALSE(disk.append("b", std::string(1000, 'c')));
    std::mt19937_64 rng(seed);
    disk.crash(rng);
    return std::pair(disk.read("a").value_or("<absent>"), disk.read("b").value_or("<absent>"));
  };
  std::set<std::pair<std::string, std::string>> outcomes;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    EXPECT_EQ(run(seed), run(seed)) << seed;
    outcomes.insert(run(seed));
  }
  EXPECT_GT(outcomes.size(), 1u);  // The seed does matter.
}

TEST(SimDisk, ReplaceIsDurableAtOnceAndDropsPendingBytes) {
  SimDisk disk;
  ASSERT_FALSE(disk.append("f", "old"));
  ASSERT_FALSE(disk.replace("f", "new"));
  EXPECT_EQ(disk.durable("f"), "new");
  EXPECT_EQ(disk.pending("f"), "");
  std::mt19937_64 rng(1);
  disk.crash(rng);
  EXPECT_EQ(disk.read("f").value(), "new");
  EXPECT_EQ(disk.durable_ops(), 1u);
}

TEST(SimDisk, TruncateIsDurableAndNeedsTheFile) {
  SimDisk disk;
  EXPECT_EQ(disk.truncate("f", 0), std::errc::no_such_file_or_directory);
  ASSERT_FALSE(disk.append("f", "0123456789"));
  ASSERT_FALSE(disk.truncate("f", 4));
  EXPECT_EQ(disk.durable("f"), "0123");
  EXPECT_EQ(disk.pending("f"), "");
  ASSERT_FALSE(disk.truncate("f", 6));
  EXPECT_EQ(disk.read("f").value(), std::string("0123\0\0", 6));
  std::mt19937_64 rng(3);
  disk.crash(rng);
  EXPECT_EQ(disk.read("f").value(), std::string("0123\0\0", 6));
}

TEST(SimDisk, RenameMovesTheFileWithItsPendingBytes) {
  SimDisk disk;
  EXPECT_EQ(disk.rename("a", "b"), std::errc::no_such_file_or_directory);
  ASSERT_FALSE(disk.append("a", "durable"));
  ASSERT_FALSE(disk.sync("a"));
  ASSERT_FALSE(disk.append("a", "+pending"));
  ASSERT_FALSE(disk.replace("b", "replaced"));
  ASSERT_FALSE(disk.rename("a", "b"));
  EXPECT_FALSE(disk.read("a"));
  EXPECT_EQ(disk.read("b").value(), "durable+pending");
  EXPECT_EQ(disk.durable("b"), "durable");
  EXPECT_EQ(disk.pending("b"), "+pending");
}

TEST(SimDisk, RemoveOfAbsentFileIsFine) {
  SimDisk disk;
  EXPECT_FALSE(disk.remove("f"));
  ASSERT_FALSE(disk.append("f", "x"));
  EXPECT_FALSE(disk.remove("f"));
  EXPECT_FALSE(disk.read("f"));
}

TEST(SimDisk, HaltAfterStopsEveryOperationUntilTheCrash) {
  SimDisk disk;
  disk.halt_after(2);
  EXPECT_FALSE(disk.append("f", "one"));
  EXPECT_FALSE(disk.sync("f"));
  EXPECT_TRUE(disk.halted());
  EXPECT_EQ(disk.append("f", "two"), std::errc::io_error);
  EXPECT_EQ(disk.replace("g", "x"), std::errc::io_error);
  EXPECT_EQ(disk.read("f").error(), std::errc::io_error);
  std::mt19937_64 rng(0);
  disk.crash(rng);
  EXPECT_FALSE(disk.halted());
  EXPECT_EQ(disk.read("f").value(), "one");
  EXPECT_FALSE(disk.read("g"));
}

TEST(SimDisk, FailNextMakesAShortWrite) {
  SimDisk disk;
  disk.fail_next(std::make_error_code(std::errc::no_space_on_device), 2);
  EXPECT_EQ(disk.append("f", "abcdef"), std::errc::no_space_on_device);
  EXPECT_EQ(disk.read("f").value(), "ab");
  EXPECT_FALSE(disk.append("f", "gh"));  // Only the next operation fails.
  EXPECT_EQ(disk.read("f").value(), "abgh");
}

TEST(SimDisk, FailedSyncLeavesBytesPending) {
  SimDisk disk;
  ASSERT_FALSE(disk.append("f", "abc"));
  disk.fail_next(std::make_error_code(std::errc::io_error));
  EXPECT_EQ(disk.sync("f"), std::errc::io_error);
  EXPECT_EQ(disk.pending("f"), "abc");
}

TEST(SimDisk, ListsItsFilesSortedAndForgetsThoseACrashDropped) {
  SimDisk disk;
  EXPECT_EQ(disk.list().value(), std::vector<std::string>{});
  ASSERT_FALSE(disk.replace("b", "durable name"));
  ASSERT_FALSE(disk.append("a", "never synced"));
  EXPECT_EQ(disk.list().value(), (std::vector<std::string>{"a", "b"}));
  // A file created by append() and never synced may vanish in a crash; seeds differ in which they pick.
  std::set<std::vector<std::string>> seen;
  for (std::uint64_t seed = 0; seed < 32; ++seed) {
    SimDisk copy;
    ASSERT_FALSE(copy.replace("b", "durable name"));
    ASSERT_FALSE(copy.append("a", "never synced"));
    std::mt19937_64 rng(seed);
    copy.crash(rng);
    seen.insert(copy.list().value());
  }
  EXPECT_EQ(seen, (std::set<std::vector<std::string>>{{"b"}, {"a", "b"}}));
}

TEST(SimDisk, ListHonoursHaltAndInjectedFailures) {
  SimDisk disk;
  disk.fail_next(std::make_error_code(std::errc::io_error));
  EXPECT_EQ(disk.list().error(), std::errc::io_error);
  EXPECT_TRUE(disk.list());
  disk.halt_after(0);
  EXPECT_EQ(disk.list().error(), std::errc::io_error);
}

TEST(SimDisk, AFullDiskMakesShortWritesAndRefusesReplaces) {
  SimDisk disk;
  disk.set_capacity(10);
  ASSERT_FALSE(disk.append("f", "12345678"));
  EXPECT_EQ(disk.used_bytes(), 8u);
  EXPECT_EQ(disk.append("f", "abcd"), std::errc::no_space_on_device);
  EXPECT_EQ(disk.read("f").value(), "12345678ab");
  EXPECT_EQ(disk.append("f", "x"), std::errc::no_space_on_device);
  EXPECT_EQ(disk.replace("g", "x"), std::errc::no_space_on_device);
  EXPECT_FALSE(disk.read("g"));
  // Replacing a file counts the space its old content frees.
  EXPECT_FALSE(disk.replace("f", "0123456789"));
  EXPECT_FALSE(disk.truncate("f", 4));
  EXPECT_FALSE(disk.append("f", "xyz"));
  ASSERT_FALSE(disk.remove("f"));
  EXPECT_EQ(disk.used_bytes(), 0u);
  disk.set_capacity(std::nullopt);
  EXPECT_FALSE(disk.append("f", std::string(1000, 'x')));
}

}  // namespace
}  // namespace fg::test
