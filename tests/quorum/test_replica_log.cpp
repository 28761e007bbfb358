// ReplicaLog: recovery, torn tails, corruption, group commit, compaction, and crashes (SimDisk).
// The tests of the first part run on both disks: SimDisk and PosixDisk on real files in a TempDir.

#include "quorum/replica_log.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/posix_disk.hpp"
#include "tests/quorum/disk_format_v1_writer.hpp"
#include "tests/storage/sim_disk.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::quorum {
namespace {

namespace df = disk_format;
namespace rf = storage::record_format;
using storage::Disk;
using storage::PosixDisk;
using test::SimDisk;

Versioned ver(std::uint64_t counter, std::string value, NodeId writer = 1, std::uint64_t epoch = 1) {
  return Versioned{Tag{counter, writer, epoch}, std::move(value)};
}

std::size_t record_size(std::string_view key, const Versioned& entry) {
  return rf::kRecordOverhead + df::kEntryFixedBytes + key.size() + entry.value.size();
}

OpenedReplicaLog open_ok(Disk& disk, ReplicaLogOptions options = {}) {
  auto opened = open_replica_log(disk, options);
  if (!opened) {
    ADD_FAILURE() << "open_replica_log: " << opened.error().message();
  }
  return std::move(opened).value();  // Throws (and fails the test) if it did not open.
}

bool any_problem_contains(const Recovered& rec, std::string_view text) {
  return std::ranges::any_of(rec.problems, [&](const std::string& p) { return p.find(text) != p.npos; });
}

std::string problems_of(const Recovered& rec) {
  std::string out;
  for (const auto& p : rec.problems) {
    out += p + "\n";
  }
  return out;
}

std::string le(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
  return out;
}

std::uint32_t zlib_crc(std::string_view bytes) {
  return static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// ---------------------------------------------------------------------------------------------------
// The byte layout, pinned to what docs/quorum-disk-format.md says.

std::string log_header() {
  return rf::encode_header(df::kLogFormat.magic, 2);
}

// A storage/ record holding `payload`: CRC of the rest, length, payload.
std::string framed(const std::string& payload) {
  std::string covered = le(payload.size(), 4) + payload;
  return le(zlib_crc(covered), 4) + covered;
}

TEST(DiskFormat, FilesAreRecordFilesOfVersion2WithTheMagicsOfVersion1) {
  std::string first12 = std::string("FGQLOG\n\n", 8) + le(2, 4);
  EXPECT_EQ(log_header(), first12 + le(zlib_crc(first12), 4));
  EXPECT_EQ(df::kSnapshotFormat.magic, "FGQSNAP\n");
  EXPECT_EQ(df::kEpochFormat.magic, "FGQEPOC\n");
}

TEST(DiskFormat, EntryIsLittleEndianTagThenKeyLengthKeyAndValue) {
  std::string payload;
  df::append_entry(payload, "key", Versioned{Tag{0x0102030405060708, 0x0A0B0C0D, 2}, "value"});
  EXPECT_EQ(payload, le(0x0102030405060708, 8) + le(0x0A0B0C0D, 4) + le(2, 8) + le(3, 2) + "key" + "value");
  df::DecodedEntry decoded = df::decode_entry(payload);  // Views into `payload`.
  ASSERT_TRUE(decoded.ok);
  EXPECT_EQ(decoded.key, "key");
  EXPECT_EQ(decoded.value, "value");
  EXPECT_EQ(decoded.tag, (Tag{0x0102030405060708, 0x0A0B0C0D, 2}));
  for (std::size_t cut = 0; cut < df::kEntryFixedBytes + 3; ++cut) {
    EXPECT_FALSE(df::decode_entry(payload.substr(0, cut)).ok) << cut;  // Shorter than its key.
  }
  EXPECT_TRUE(df::decode_entry(payload.substr(0, df::kEntryFixedBytes + 3)).ok);  // An empty value.
}

TEST(DiskFormat, SnapshotIsACountThenSortedEntriesAndIsTheSameForTheSameState) {
  Entries entries{{"b", ver(2, "two")}, {"a", ver(1, "one")}, {"c", ver(3, "")}};
  std::string bytes = df::encode_snapshot(entries);
  Entries same_other_order{{"c", ver(3, "")}, {"a", ver(1, "one")}, {"b", ver(2, "two")}};
  EXPECT_EQ(df::encode_snapshot(same_other_order), bytes);
  std::string expected = rf::encode_header(df::kSnapshotFormat.magic, 2) + framed(le(3, 8));
  for (const auto& [key, entry] : entries) {
    std::string payload;
    df::append_entry(payload, key, entry);
    expected += framed(payload);
  }
  EXPECT_EQ(bytes, expected);
  df::DecodedSnapshot decoded = df::decode_snapshot(bytes);
  ASSERT_TRUE(decoded.ok) << decoded.why;
  EXPECT_EQ(decoded.version, 2u);
  EXPECT_EQ(decoded.entries, entries);
  // Cut at a record boundary: the count tells.
  df::DecodedSnapshot cut =
      df::decode_snapshot(bytes.substr(0, expected.size() - 8 - df::kEntryFixedBytes - 1));
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.why, "2 entries where the count says 3");
}

TEST(DiskFormat, EpochIsOneRecord) {
  EXPECT_EQ(df::encode_epoch(7), rf::encode_header(df::kEpochFormat.magic, 2) + framed(le(7, 8)));
  df::DecodedEpoch decoded = df::decode_epoch(df::encode_epoch(7));
  ASSERT_TRUE(decoded.ok) << decoded.why;
  EXPECT_EQ(decoded.epoch, 7u);
}

TEST(DiskFormat, Version1FilesAreRead) {
  Entries entries{{"a", ver(1, "one")}, {"b", ver(2, "two", 3, 4)}};
  df::DecodedSnapshot snapshot = df::decode_snapshot(test_v1::snapshot(entries));
  ASSERT_TRUE(snapshot.ok) << snapshot.why;
  EXPECT_EQ(snapshot.version, 1u);
  EXPECT_EQ(snapshot.entries, entries);

  std::vector<std::pair<std::string, Versioned>> records{{"a", ver(1, "one")}, {"a", ver(2, "two")}};
  std::string log = test_v1::log(records);
  std::vector<std::pair<std::string, Versioned>> read;
  auto collect = [&](std::string_view key, const Versioned& entry) { read.emplace_back(key, entry); };
  df::LogScan scan = df::scan_log(log, collect);
  EXPECT_EQ(scan.version, 1u);
  EXPECT_EQ(scan.tail, rf::Tail::clean);
  EXPECT_EQ(scan.intact_bytes, log.size());
  EXPECT_EQ(read, records);
  read.clear();
  scan = df::scan_log(log.substr(0, log.size() - 1), collect);
  EXPECT_EQ(scan.tail, rf::Tail::torn);
  EXPECT_EQ(scan.intact_bytes, log.size() - test_v1::record("a", ver(2, "two")).size());
  EXPECT_EQ(read.size(), 1u);

  df::DecodedEpoch epoch = df::decode_epoch(test_v1::epoch(41));
  ASSERT_TRUE(epoch.ok) << epoch.why;
  EXPECT_EQ(epoch.version, 1u);
  EXPECT_EQ(epoch.epoch, 41u);
}

// ---------------------------------------------------------------------------------------------------
// On both disks.

enum class DiskKind { sim, posix };

void PrintTo(DiskKind kind, std::ostream* out) {
  *out << (kind == DiskKind::sim ? "SimDisk" : "PosixDisk");
}

class ReplicaLogTest : public ::testing::TestWithParam<DiskKind> {
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

  // Writes a file behind the disk's back (an operator, another program, bit rot).
  void put_file(const std::string& name, const std::string& bytes) {
    if (GetParam() == DiskKind::sim) {
      sim_.put_durable(name, bytes);
    } else {
      posix_.reset();
      test::write_file(tmp_ / "state" / name, bytes);
      restart();
    }
  }

  std::optional<std::string> file(std::string_view name) {
    auto bytes = disk().read(name);
    return bytes ? std::optional<std::string>(*bytes) : std::nullopt;
  }

  // An initialized state with a snapshot of `snapshot` and `records` committed to the log after it.
  void make_state(const Entries& snapshot, const std::vector<std::pair<std::string, Versioned>>& records) {
    auto [log, rec] = open_ok(disk());
    ASSERT_FALSE(log.mark_initialized(snapshot));
    for (const auto& [key, entry] : records) {
      ASSERT_FALSE(log.append(key, entry));
    }
    ASSERT_FALSE(log.commit());
    restart();
  }

  test::TempDir tmp_;
  SimDisk sim_;
  std::optional<PosixDisk> posix_;
};

INSTANTIATE_TEST_SUITE_P(Disks, ReplicaLogTest, ::testing::Values(DiskKind::sim, DiskKind::posix),
                         [](const auto& info) { return info.param == DiskKind::sim ? "sim" : "posix"; });

TEST_P(ReplicaLogTest, EmptyDirectoryIsNotInitializedAndGetsALog) {
  auto [log, rec] = open_ok(disk());
  EXPECT_FALSE(rec.initialized);
  EXPECT_FALSE(log.initialized());
  EXPECT_TRUE(rec.entries.empty());
  EXPECT_FALSE(rec.corruption);
  EXPECT_TRUE(rec.empty_directory);
  EXPECT_TRUE(rec.problems.empty()) << problems_of(rec);  // A new site is no problem (issue 10).
  EXPECT_EQ(file("log"), log_header());
  EXPECT_FALSE(file("snapshot"));
  EXPECT_EQ(log.log_bytes(), 0u);
}

TEST_P(ReplicaLogTest, RoundTrip) {
  Entries expected{{"k1", ver(1, "one")},
                   {"", ver(2, "empty key")},
                   {"binary", ver(3, std::string("\0\xff\n\r", 4))},
                   {"empty value", ver(4, "")},
                   {std::string(255, 'k'), ver(5, std::string(64 * 1024, 'v'))}};
  {
    auto [log, rec] = open_ok(disk());
    ASSERT_FALSE(log.mark_initialized({}));
    EXPECT_TRUE(log.initialized());
    for (const auto& [key, entry] : expected) {
      ASSERT_FALSE(log.append(key, entry));
    }
    EXPECT_TRUE(log.pending());
    ASSERT_FALSE(log.commit());
    EXPECT_FALSE(log.pending());
  }
  restart();
  auto [log, rec] = open_ok(disk());
  EXPECT_TRUE(rec.initialized);
  EXPECT_TRUE(log.initialized());
  EXPECT_EQ(rec.entries, expected);
  EXPECT_EQ(rec.records_replayed, expected.size());
  EXPECT_EQ(rec.records_ignored, 0u);
  EXPECT_EQ(rec.bytes_cut, 0u);
  EXPECT_FALSE(rec.corruption);
  EXPECT_TRUE(rec.problems.empty()) << problems_of(rec);
}

TEST_P(ReplicaLogTest, SnapshotAndLogTogether) {
  make_state({{"a", ver(1, "a1")}, {"b", ver(1, "b1")}}, {{"b", ver(2, "b2")}, {"c", ver(1, "c1")}});
  auto [log, rec] = open_ok(disk());
  EXPECT_TRUE(rec.initialized);
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "a1")}, {"b", ver(2, "b2")}, {"c", ver(1, "c1")}}));
  EXPECT_EQ(rec.records_replayed, 2u);
  EXPECT_GT(log.snapshot_bytes(), 0u);
}

TEST_P(ReplicaLogTest, ReplayIsIdempotent) {
  make_state({}, {{"a", ver(1, "a1")}, {"a", ver(1, "a1")}, {"b", ver(3, "b3")}});
  std::string log_before = file("log").value();
  Recovered first = open_ok(disk()).recovered;
  restart();
  Recovered second = open_ok(disk()).recovered;
  EXPECT_EQ(first.entries, (Entries{{"a", ver(1, "a1")}, {"b", ver(3, "b3")}}));
  EXPECT_EQ(second.entries, first.entries);
  EXPECT_EQ(first.records_replayed, 3u);
  EXPECT_EQ(first.records_ignored, 1u);  // The duplicate.
  EXPECT_EQ(second.records_ignored, 1u);
  EXPECT_EQ(file("log"), log_before);  // Opening does not rewrite a healthy log.
}

TEST_P(ReplicaLogTest, LowerTagsAreIgnored) {
  make_state({{"s", ver(10, "snapshot's")}},
             {
                 {"k", ver(5, "five")},
                 {"k", ver(3, "three")},                 // lower counter
                 {"k", ver(5, "five, writer 2", 2)},     // same counter, higher writer
                 {"k", ver(5, "five, writer 1", 1, 9)},  // lower writer, higher epoch: still lower
                 {"s", ver(9, "older than the snapshot")},
                 {"z", ver(0, "zero tag", 0, 0)},  // the zero tag is "never written"
             });
  auto [log, rec] = open_ok(disk());
  EXPECT_EQ(rec.entries, (Entries{{"s", ver(10, "snapshot's")}, {"k", ver(5, "five, writer 2", 2)}}));
  EXPECT_EQ(rec.records_replayed, 6u);
  EXPECT_EQ(rec.records_ignored, 4u);
}

TEST_P(ReplicaLogTest, TornTailAtEveryByteOfTheLastRecordIsCut) {
  std::vector<std::pair<std::string, Versioned>> records{
      {"first", ver(1, "value one")}, {"second", ver(2, "value two")}, {"third", ver(3, "value three")}};
  make_state({}, records);
  std::string full = file("log").value();
  std::size_t last = full.size() - record_size(records[2].first, records[2].second);
  ASSERT_EQ(last, rf::kHeaderBytes + record_size(records[0].first, records[0].second) +
                      record_size(records[1].first, records[1].second));
  for (std::size_t cut = last + 1; cut < full.size(); ++cut) {
    SCOPED_TRACE("log cut to " + std::to_string(cut) + " bytes");
    put_file("log", full.substr(0, cut));
    {
      auto [log, rec] = open_ok(disk());
      EXPECT_TRUE(rec.initialized);
      EXPECT_EQ(rec.entries, (Entries{{"first", ver(1, "value one")}, {"second", ver(2, "value two")}}));
      EXPECT_EQ(rec.bytes_cut, cut - last);
      EXPECT_EQ(rec.records_replayed, 2u);
      EXPECT_FALSE(rec.corruption) << problems_of(rec);
      EXPECT_TRUE(any_problem_contains(rec, "torn log tail")) << problems_of(rec);
      EXPECT_EQ(file("log"), full.substr(0, last));
      EXPECT_EQ(log.log_bytes(), last - rf::kHeaderBytes);
    }
    restart();
    Recovered again = open_ok(disk()).recovered;
    EXPECT_EQ(again.bytes_cut, 0u);
    EXPECT_EQ(again.entries.size(), 2u);
  }
}

TEST_P(ReplicaLogTest, AppendsAfterACutTailAreKept) {
  make_state({}, {{"a", ver(1, "a1")}, {"b", ver(1, "b1")}});
  std::string full = file("log").value();
  put_file("log", full.substr(0, full.size() - 3));
  {
    auto [log, rec] = open_ok(disk());
    EXPECT_EQ(rec.bytes_cut, record_size("b", ver(1, "b1")) - 3);
    ASSERT_FALSE(log.append("c", ver(1, "c1")));
    ASSERT_FALSE(log.commit());
  }
  restart();
  auto [log, rec] = open_ok(disk());
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "a1")}, {"c", ver(1, "c1")}}));
  EXPECT_EQ(rec.bytes_cut, 0u);
  EXPECT_FALSE(rec.corruption);
}

TEST_P(ReplicaLogTest, GarbageAfterValidRecordsIsCut) {
  make_state({}, {{"a", ver(1, "a1")}, {"b", ver(2, "b2")}});
  std::string good = file("log").value();
  std::mt19937_64 rng(42);
  std::string garbage;
  for (int i = 0; i < 1000; ++i) {
    garbage.push_back(static_cast<char>(rng()));
  }
  for (const std::string& tail : {garbage, std::string(4096, '\0')}) {
    put_file("log", good + tail);
    auto [log, rec] = open_ok(disk());
    EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "a1")}, {"b", ver(2, "b2")}}));
    EXPECT_EQ(rec.bytes_cut, tail.size());
    EXPECT_TRUE(rec.initialized);
    EXPECT_FALSE(rec.corruption) << problems_of(rec);
    EXPECT_EQ(file("log"), good);
  }
}

TEST_P(ReplicaLogTest, ABadRecordFollowedByValidOnesIsCutAndReportedAsCorruption) {
  std::vector<std::pair<std::string, Versioned>> records{
      {"a", ver(1, "a1")}, {"b", ver(1, "b1")}, {"c", ver(1, "c1")}};
  make_state({}, records);
  std::string full = file("log").value();
  std::size_t second = rf::kHeaderBytes + record_size("a", records[0].second);
  std::string damaged = full;
  damaged[second + rf::kRecordOverhead + df::kEntryFixedBytes + 1] ^= 0x01;  // A bit of b's value.
  put_file("log", damaged);

  auto [log, rec] = open_ok(disk());
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "a1")}}));  // Nothing past the damage is trusted.
  EXPECT_TRUE(rec.corruption);
  EXPECT_TRUE(rec.initialized);
  EXPECT_EQ(rec.bytes_cut, full.size() - second);
  EXPECT_TRUE(any_problem_contains(rec, "log damaged at offset " + std::to_string(second)))
      << problems_of(rec);
  EXPECT_EQ(file("log"), full.substr(0, second));
  EXPECT_EQ(file("log.corrupt"), damaged.substr(second));  // Kept for a post-mortem.
}

TEST_P(ReplicaLogTest, ACorruptSnapshotIsRenamedAsideAndTheStateIsNotInitialized) {
  const Entries snapshot_entries{{"a", ver(1, "a1")}, {"b", ver(1, "b1")}};
  struct Damage {
    const char* name;
    std::string (*apply)(std::string);
  };
  const Damage damages[] = {
      {"bad magic", [](std::string s) { return s.replace(0, 3, "XXX"); }},
      {"flipped bit", [](std::string s) { return s[s.size() / 2] ^= 0x10, s; }},
      {"cut short", [](std::string s) { return s.substr(0, s.size() - 3); }},
      {"only a header", [](std::string s) { return s.substr(0, rf::kHeaderBytes); }},
      {"empty", [](std::string) { return std::string(); }},
      {"trailing bytes", [](std::string s) { return s + "x"; }},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    for (const char* name : {"snapshot", "snapshot.corrupt", "log", "log.corrupt"}) {
      ASSERT_FALSE(disk().remove(name));
    }
    make_state(snapshot_entries, {{"c", ver(1, "c1")}});
    std::string bad = damage.apply(file("snapshot").value());
    put_file("snapshot", bad);
    {
      auto [log, rec] = open_ok(disk());
      EXPECT_FALSE(rec.initialized);
      EXPECT_FALSE(log.initialized());
      EXPECT_TRUE(rec.corruption);
      ASSERT_FALSE(rec.problems.empty());
      EXPECT_TRUE(rec.problems[0].starts_with("corrupt snapshot: ")) << problems_of(rec);
      EXPECT_FALSE(file("snapshot"));
      EXPECT_EQ(file("snapshot.corrupt"), bad);
      // The log's records are still recovered (as a start for the rebuild) and the log is kept.
      EXPECT_EQ(rec.entries, (Entries{{"c", ver(1, "c1")}}));
      EXPECT_FALSE(log.compaction_due());
    }
    // Still not initialized after another restart, until the state is restored and marked.
    restart();
    {
      auto [log, rec] = open_ok(disk());
      EXPECT_FALSE(rec.initialized);
      EXPECT_TRUE(any_problem_contains(rec, "no snapshot")) << problems_of(rec);
      Entries restored = rec.entries;
      restored.insert_or_assign("a", ver(1, "a1"));
      restored.insert_or_assign("b", ver(1, "b1"));
      ASSERT_FALSE(log.mark_initialized(restored));
    }
    restart();
    auto [log, rec] = open_ok(disk());
    EXPECT_TRUE(rec.initialized);
    EXPECT_EQ(rec.entries.size(), 3u);
  }
}

TEST_P(ReplicaLogTest, ANewerFormatVersionIsRefusedAndNothingIsTouched) {
  make_state({{"a", ver(1, "a1")}}, {{"b", ver(1, "b1")}});
  std::string snapshot = file("snapshot").value();
  std::string log = file("log").value();
  struct Case {
    const char* file;
    std::string bytes;
  };
  const Case cases[] = {
      {"snapshot", rf::encode_header(df::kSnapshotFormat.magic, 3) + "whatever version 3 holds"},
      {"log", rf::encode_header(df::kLogFormat.magic, 3) + "whatever version 3 holds"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    put_file("snapshot", snapshot);
    put_file("log", log);
    put_file(c.file, c.bytes);
    auto opened = open_replica_log(disk());
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), StateError::newer_format);
    EXPECT_EQ(opened.error(), std::errc::not_supported);
    EXPECT_EQ(file(c.file), c.bytes);
    EXPECT_EQ(file("snapshot"), std::string(c.file) == "snapshot" ? c.bytes : snapshot);
    EXPECT_EQ(file("log"), std::string(c.file) == "log" ? c.bytes : log);
    EXPECT_FALSE(file("snapshot.corrupt"));
    EXPECT_FALSE(file("log.corrupt"));
  }
}

// A state directory written by a build of format version 1 (the register's own framing): read, then
// rewritten as version 2, after which it opens as any other.
TEST_P(ReplicaLogTest, AVersion1StateIsReadAndRewrittenAsVersion2) {
  const Entries snapshot{{"a", ver(1, "a1")}, {"b", ver(1, "b1")}};
  const std::vector<std::pair<std::string, Versioned>> records{{"b", ver(2, "b2")}, {"c", ver(1, "c1")}};
  std::string v1_log = test_v1::log(records);
  put_file("snapshot", test_v1::snapshot(snapshot));
  put_file("log", v1_log + test_v1::record("d", ver(1, "torn")).substr(0, 9));
  const Entries expected{{"a", ver(1, "a1")}, {"b", ver(2, "b2")}, {"c", ver(1, "c1")}};
  std::string v2_log = log_header();
  for (const auto& [key, entry] : records) {
    std::string payload;
    df::append_entry(payload, key, entry);
    v2_log += framed(payload);
  }
  {
    auto [log, rec] = open_ok(disk());
    EXPECT_EQ(rec.converted_from, 1u);
    EXPECT_TRUE(rec.initialized);
    EXPECT_FALSE(rec.corruption) << problems_of(rec);
    EXPECT_EQ(rec.entries, expected);
    EXPECT_EQ(rec.records_replayed, 2u);
    EXPECT_EQ(rec.bytes_cut, 9u);  // The torn tail is cut as in any log.
    EXPECT_EQ(file("snapshot"), df::encode_snapshot(snapshot));
    EXPECT_EQ(file("log"), v2_log);
    EXPECT_EQ(log.snapshot_bytes(), file("snapshot").value().size());
    EXPECT_EQ(log.log_bytes(), v2_log.size() - rf::kHeaderBytes);
    ASSERT_FALSE(log.append("d", ver(1, "d1")));  // Appends go on in version 2.
    ASSERT_FALSE(log.commit());
  }
  restart();
  auto [log, rec] = open_ok(disk());
  EXPECT_EQ(rec.converted_from, 0u);
  EXPECT_TRUE(rec.initialized);
  EXPECT_TRUE(rec.problems.empty()) << problems_of(rec);
  Entries with_d = expected;
  with_d["d"] = ver(1, "d1");
  EXPECT_EQ(rec.entries, with_d);
}

TEST_P(ReplicaLogTest, AVersion1LogWithoutSnapshotIsConvertedAndStaysNotInitialized) {
  put_file("log", test_v1::log({{"a", ver(1, "stored while restoring")}}));
  {
    auto [log, rec] = open_ok(disk());
    EXPECT_EQ(rec.converted_from, 1u);
    EXPECT_FALSE(rec.initialized);
    EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "stored while restoring")}}));
  }
  restart();
  auto [log, rec] = open_ok(disk());
  EXPECT_EQ(rec.converted_from, 0u);
  EXPECT_FALSE(rec.initialized);
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "stored while restoring")}}));
}

TEST_P(ReplicaLogTest, ALogWithoutSnapshotIsNotInitializedAndItsDataIsKept) {
  {
    auto [log, rec] = open_ok(disk());
    ASSERT_FALSE(log.append("a", ver(1, "stored while restoring")));
    ASSERT_FALSE(log.commit());
  }
  std::string log_bytes = file("log").value();
  restart();
  auto [log, rec] = open_ok(disk());
  EXPECT_FALSE(rec.initialized);
  EXPECT_FALSE(rec.corruption);
  EXPECT_TRUE(any_problem_contains(rec, "no snapshot")) << problems_of(rec);
  EXPECT_TRUE(any_problem_contains(rec, "restore its keys from a quorum")) << problems_of(rec);
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "stored while restoring")}}));
  EXPECT_EQ(file("log"), log_bytes);
}

TEST_P(ReplicaLogTest, ASnapshotWithoutLogIsNotInitialized) {
  make_state({{"a", ver(1, "a1")}}, {});
  ASSERT_FALSE(disk().remove("log"));
  auto [log, rec] = open_ok(disk());
  EXPECT_FALSE(rec.initialized);
  EXPECT_TRUE(rec.corruption);
  EXPECT_TRUE(any_problem_contains(rec, "log missing")) << problems_of(rec);
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "a1")}}));
  EXPECT_EQ(file("log"), log_header());
  EXPECT_FALSE(file("snapshot"));
  EXPECT_TRUE(file("snapshot.stale"));
  // Not initialized sticks: the new empty log beside the old snapshot must not pass for a whole state.
  restart();
  EXPECT_FALSE(open_ok(disk()).recovered.initialized);
}

TEST_P(ReplicaLogTest, ACorruptLogHeaderIsRenamedAsideAndTheStateIsNotInitialized) {
  make_state({{"a", ver(1, "a1")}}, {{"b", ver(1, "b1")}});
  std::string bad = file("log").value();
  bad[9] ^= 0x01;  // The version field: the header CRC no longer matches.
  put_file("log", bad);
  auto [log, rec] = open_ok(disk());
  EXPECT_FALSE(rec.initialized);
  EXPECT_TRUE(rec.corruption);
  EXPECT_TRUE(any_problem_contains(rec, "corrupt log header: header CRC mismatch")) << problems_of(rec);
  EXPECT_EQ(file("log.corrupt"), bad);
  EXPECT_EQ(file("log"), log_header());
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "a1")}}));
  EXPECT_TRUE(file("snapshot.stale"));
  restart();
  EXPECT_FALSE(open_ok(disk()).recovered.initialized);
}

TEST_P(ReplicaLogTest, OversizeKeysAndValuesAreRejectedAndNeverWritten) {
  auto [log, rec] = open_ok(disk());
  ASSERT_FALSE(log.mark_initialized({}));
  std::string before = file("log").value();
  std::error_code key_error = log.append(std::string(256, 'k'), ver(1, "v"));
  EXPECT_EQ(key_error, StateError::key_too_large);
  EXPECT_EQ(key_error, std::errc::value_too_large);
  std::error_code value_error = log.append("k", ver(1, std::string(64 * 1024 + 1, 'v')));
  EXPECT_EQ(value_error, StateError::value_too_large);
  EXPECT_EQ(value_error, std::errc::value_too_large);
  EXPECT_FALSE(log.pending());
  EXPECT_EQ(file("log"), before);
  EXPECT_FALSE(log.append(std::string(255, 'k'), ver(1, std::string(64 * 1024, 'v'))));  // The limits.
}

TEST_P(ReplicaLogTest, CompactionWritesASnapshotAndEmptiesTheLog) {
  ReplicaLogOptions options{.compact_min_log_bytes = 200};
  Entries entries;
  {
    auto [log, rec] = open_ok(disk(), options);
    EXPECT_FALSE(log.compaction_due());  // Not initialized: no snapshot may be written.
    ASSERT_FALSE(log.mark_initialized({}));
    std::uint64_t counter = 0;
    while (!log.compaction_due()) {
      std::string key = "key" + std::to_string(counter % 3);
      ++counter;
      entries[key] = ver(counter, "value " + std::to_string(counter));
      ASSERT_FALSE(log.append(key, entries[key]));
    }
    EXPECT_GT(log.log_bytes(), 200u);
    auto refused = log.compact(entries);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), StateError::commit_pending);
    ASSERT_FALSE(log.commit());
    EXPECT_EQ(log.compact(entries), true);
    EXPECT_EQ(log.log_bytes(), 0u);
    EXPECT_EQ(file("log"), log_header());
    EXPECT_EQ(log.snapshot_bytes(), file("snapshot").value().size());
    EXPECT_FALSE(log.compaction_due());
    EXPECT_EQ(log.compact(entries), false);
    // Appends go on after compaction.
    entries["after"] = ver(1000, "after compaction");
    ASSERT_FALSE(log.append("after", entries["after"]));
    ASSERT_FALSE(log.commit());
  }
  restart();
  auto [log, rec] = open_ok(disk(), options);
  EXPECT_TRUE(rec.initialized);
  EXPECT_EQ(rec.entries, entries);
  EXPECT_EQ(rec.records_replayed, 1u);
}

TEST_P(ReplicaLogTest, CompactionWaitsForALogTwiceTheSnapshot) {
  ReplicaLogOptions options{.compact_min_log_bytes = 0};
  Entries big{{"big", ver(1, std::string(10000, 'b'))}};
  make_state(big, {});
  auto [log, rec] = open_ok(disk(), options);
  std::uint64_t snapshot = log.snapshot_bytes();
  ASSERT_GT(snapshot, 10000u);
  std::uint64_t counter = 1;
  while (log.log_bytes() + 100 < 2 * snapshot) {
    ASSERT_FALSE(log.append("small", ver(++counter, std::string(60, 's'))));
    EXPECT_FALSE(log.compaction_due()) << log.log_bytes();
  }
  while (log.log_bytes() < 2 * snapshot) {
    ASSERT_FALSE(log.append("small", ver(++counter, std::string(60, 's'))));
  }
  EXPECT_TRUE(log.compaction_due());
}

// ---------------------------------------------------------------------------------------------------
// SimDisk only: group commit, failures and crashes.

TEST(ReplicaLogSim, GroupCommitSyncsOncePerCommit) {
  SimDisk disk;
  auto [log, rec] = open_ok(disk);
  std::uint64_t syncs = disk.sync_calls();
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(log.append("k" + std::to_string(i), ver(1, "v")));
  }
  EXPECT_EQ(disk.sync_calls(), syncs);
  ASSERT_FALSE(log.commit());
  EXPECT_EQ(disk.sync_calls(), syncs + 1);
  ASSERT_FALSE(log.commit());  // Nothing pending: no sync.
  EXPECT_EQ(disk.sync_calls(), syncs + 1);
  EXPECT_EQ(disk.pending("log"), "");
}

// What one store costs the disk (issue 8's benchmark item): its record appended and one sync at the
// commit; no rewrite, truncation or rename, and no byte beyond the record.
TEST(ReplicaLogSim, AStoreAppendsItsRecordAndNothingElse) {
  SimDisk disk;
  auto [log, rec] = open_ok(disk);
  ASSERT_FALSE(log.mark_initialized({}));
  std::uint64_t syncs = disk.sync_calls();
  std::uint64_t durable_ops = disk.durable_ops();
  std::uint64_t appended = disk.appended_bytes();
  std::uint64_t log_bytes = log.log_bytes();
  for (std::uint64_t i = 1; i <= 100; ++i) {
    ASSERT_FALSE(log.append("key" + std::to_string(i % 10), ver(i, std::string(64, 'v'))));
    ASSERT_FALSE(log.commit());
  }
  EXPECT_EQ(disk.sync_calls(), syncs + 100);
  EXPECT_EQ(disk.durable_ops(), durable_ops);
  EXPECT_EQ(disk.appended_bytes() - appended, log.log_bytes() - log_bytes);
  EXPECT_EQ(disk.read("log").value().size(), rf::kHeaderBytes + log.log_bytes());
}

TEST(ReplicaLogSim, AFailedAppendIsCutBackSoLaterRecordsSurvive) {
  SimDisk disk;
  {
    auto [log, rec] = open_ok(disk);
    ASSERT_FALSE(log.mark_initialized({}));
    ASSERT_FALSE(log.append("a", ver(1, "a1")));
    std::string before = disk.read("log").value();
    disk.fail_next(std::make_error_code(std::errc::no_space_on_device), 10);
    EXPECT_EQ(log.append("b", ver(1, "b1")), std::errc::no_space_on_device);
    EXPECT_EQ(disk.read("log").value(), before);  // The 10 bytes written are gone again.
    ASSERT_FALSE(log.append("c", ver(1, "c1")));
    ASSERT_FALSE(log.commit());
  }
  auto [log, rec] = open_ok(disk);
  EXPECT_EQ(rec.entries, (Entries{{"a", ver(1, "a1")}, {"c", ver(1, "c1")}}));
  EXPECT_FALSE(rec.corruption);
  EXPECT_EQ(rec.bytes_cut, 0u);
}

TEST(ReplicaLogSim, AFailedSyncStopsAllFurtherWrites) {
  SimDisk disk;
  auto [log, rec] = open_ok(disk);
  ASSERT_FALSE(log.mark_initialized({}));
  ASSERT_FALSE(log.append("a", ver(1, "a1")));
  disk.fail_next(std::make_error_code(std::errc::io_error));
  EXPECT_EQ(log.commit(), std::errc::io_error);
  EXPECT_EQ(log.append("b", ver(1, "b1")), StateError::log_failed);
  EXPECT_EQ(log.commit(), StateError::log_failed);
  EXPECT_FALSE(log.compaction_due());
  auto refused = log.compact({});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), StateError::log_failed);
  // Reopening is the way back.
  auto reopened = open_replica_log(disk);
  ASSERT_TRUE(reopened);
  EXPECT_FALSE(reopened->log.append("b", ver(1, "b1")));
}

TEST(ReplicaLogSim, ACrashLosesUncommittedRecordsWholeOrKeepsThemWhole) {
  int lost = 0;
  int kept = 0;
  int torn = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SimDisk disk;
    {
      auto [log, rec] = open_ok(disk);
      ASSERT_FALSE(log.mark_initialized({{"s", ver(1, "in the snapshot")}}));
      ASSERT_FALSE(log.append("a", ver(1, "committed")));
      ASSERT_FALSE(log.commit());
      ASSERT_FALSE(log.append("b", ver(1, "not committed")));
    }
    std::mt19937_64 rng(seed);
    disk.crash(rng);
    auto [log, rec] = open_ok(disk);
    EXPECT_TRUE(rec.initialized);
    EXPECT_FALSE(rec.corruption) << problems_of(rec);
    EXPECT_EQ(rec.entries.at("s"), ver(1, "in the snapshot"));
    EXPECT_EQ(rec.entries.at("a"), ver(1, "committed"));
    if (rec.entries.contains("b")) {
      EXPECT_EQ(rec.entries.at("b"), ver(1, "not committed"));
      ++kept;
    } else {
      ++lost;
    }
    torn += rec.bytes_cut > 0 ? 1 : 0;
  }
  EXPECT_GT(lost, 0);
  EXPECT_GT(kept, 0);
  EXPECT_GT(torn, 0);
}

TEST(ReplicaLogSim, ACrashAfterCommitKeepsEveryCommittedRecord) {
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SimDisk disk;
    Entries committed;
    {
      auto [log, rec] = open_ok(disk);
      ASSERT_FALSE(log.mark_initialized({}));
      for (int i = 0; i < 5; ++i) {
        std::string key = "k" + std::to_string(i);
        committed[key] = ver(1, "value " + key);
        ASSERT_FALSE(log.append(key, committed[key]));
      }
      ASSERT_FALSE(log.commit());
    }
    std::mt19937_64 rng(seed);
    disk.crash(rng);
    auto [log, rec] = open_ok(disk);
    EXPECT_TRUE(rec.initialized);
    EXPECT_EQ(rec.entries, committed);
    EXPECT_EQ(rec.bytes_cut, 0u);
  }
}

// A random workload of stores, commits and compactions, cut by crashes. After each crash the recovered
// state holds, for every key, at least the last committed version, and only versions that were stored.
TEST(ReplicaLogSim, RandomWorkloadSurvivesRepeatedCrashes) {
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    SimDisk disk;
    ReplicaLogOptions options{.compact_min_log_bytes = 300};
    Entries committed;                                      // What a commit has acknowledged.
    std::map<std::string, std::set<std::uint64_t>> stored;  // Counters of every version ever appended.
    std::uint64_t counter = 0;
    {
      auto [log, rec] = open_ok(disk, options);
      ASSERT_FALSE(log.mark_initialized({}));
    }
    for (int round = 0; round < 5; ++round) {
      auto [log, rec] = open_ok(disk, options);
      ASSERT_TRUE(rec.initialized);
      ASSERT_FALSE(rec.corruption) << problems_of(rec);
      for (const auto& [key, entry] : committed) {
        ASSERT_TRUE(rec.entries.contains(key)) << key;
        EXPECT_GE(rec.entries.at(key).tag, entry.tag) << key;
      }
      for (const auto& [key, entry] : rec.entries) {
        ASSERT_TRUE(stored[key].contains(entry.tag.counter)) << key;
        EXPECT_EQ(entry.value, key + "@" + std::to_string(entry.tag.counter));
      }
      // What survived the crash is on disk now: it is the new baseline.
      committed = rec.entries;
      Entries current = rec.entries;
      int steps = std::uniform_int_distribution<int>(1, 60)(rng);
      for (int step = 0; step < steps; ++step) {
        int op = std::uniform_int_distribution<int>(0, 9)(rng);
        if (op < 7) {
          std::string key = "key" + std::to_string(std::uniform_int_distribution<int>(0, 7)(rng));
          ++counter;
          Versioned entry = ver(counter, key + "@" + std::to_string(counter));
          stored[key].insert(counter);
          current[key] = entry;
          ASSERT_FALSE(log.append(key, entry));
        } else if (op < 9) {
          ASSERT_FALSE(log.commit());
          committed = current;
        } else {
          ASSERT_FALSE(log.commit());
          committed = current;
          ASSERT_TRUE(log.compact(current));
        }
      }
      disk.crash(rng);
    }
  }
}

// Compaction is two durable steps (new snapshot, then an empty log). The disk halts after each number
// of operations in turn, the machine crashes, and the state must come back whole every time.
TEST(ReplicaLogSim, CompactionInterruptedAtEveryStepLosesNothing) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    bool completed = false;
    for (std::size_t ops = 0; !completed; ++ops) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", halt after " + std::to_string(ops));
      ASSERT_LT(ops, 10u) << "compaction never completed";
      SimDisk disk;
      ReplicaLogOptions options{.compact_min_log_bytes = 100};
      Entries entries{{"old", ver(1, "in the first snapshot")}};
      {
        auto [log, rec] = open_ok(disk, options);
        ASSERT_FALSE(log.mark_initialized(entries));
        for (std::uint64_t i = 2; !log.compaction_due(); ++i) {
          std::string key = "k" + std::to_string(i % 4);
          entries[key] = ver(i, "value " + std::to_string(i));
          ASSERT_FALSE(log.append(key, entries[key]));
        }
        ASSERT_FALSE(log.commit());
        disk.halt_after(ops);
        auto compacted = log.compact(entries);
        completed = compacted.has_value();
        if (completed) {
          EXPECT_TRUE(*compacted);
          EXPECT_EQ(ops, 2u);  // A new snapshot, then the log cut to its header.
        }
      }
      std::mt19937_64 rng(seed);
      disk.crash(rng);
      auto [log, rec] = open_ok(disk, options);
      EXPECT_TRUE(rec.initialized);
      EXPECT_FALSE(rec.corruption) << problems_of(rec);
      EXPECT_EQ(rec.entries, entries);
      EXPECT_EQ(rec.bytes_cut, 0u);
      if (completed) {
        EXPECT_EQ(rec.records_replayed, 0u);
      }
    }
  }
}

// Opening does durable work too (cutting a tail, renaming files aside, creating the log). Interrupted
// after any number of operations and crashed, the next open must come to the same result.
TEST(ReplicaLogSim, OpenInterruptedAtEveryStepComesToTheSameResult) {
  struct Setup {
    const char* name;
    void (*prepare)(SimDisk&);
  };
  const Setup setups[] = {
      {"empty directory", [](SimDisk&) {}},
      {"torn tail",
       [](SimDisk& disk) {
         auto [log, rec] = open_ok(disk);
         ASSERT_FALSE(log.mark_initialized({{"s", ver(1, "s1")}}));
         ASSERT_FALSE(log.append("a", ver(1, "a1")));
         ASSERT_FALSE(log.commit());
         std::string bytes = disk.read("log").value();
         disk.put_durable("log", bytes + bytes.substr(rf::kHeaderBytes, 20));
       }},
      {"corrupt snapshot and damaged log",
       [](SimDisk& disk) {
         auto [log, rec] = open_ok(disk);
         ASSERT_FALSE(log.mark_initialized({{"s", ver(1, "s1")}}));
         for (int i = 0; i < 3; ++i) {
           ASSERT_FALSE(log.append("k" + std::to_string(i), ver(1, "v")));
         }
         ASSERT_FALSE(log.commit());
         std::string log_bytes = disk.read("log").value();
         log_bytes[rf::kHeaderBytes + 40] ^= 1;
         disk.put_durable("log", log_bytes);
         disk.put_durable("snapshot", "not a snapshot at all");
       }},
      {"snapshot without log",
       [](SimDisk& disk) {
         auto [log, rec] = open_ok(disk);
         ASSERT_FALSE(log.mark_initialized({{"s", ver(1, "s1")}}));
         ASSERT_FALSE(disk.remove("log"));
       }},
      {"version 1 files with a torn log tail",
       [](SimDisk& disk) {
         disk.put_durable("snapshot", test_v1::snapshot({{"s", ver(1, "s1")}}));
         disk.put_durable("log", test_v1::log({{"a", ver(1, "a1")}, {"s", ver(2, "s2")}}) + "torn");
       }},
      {"corrupt log header",
       [](SimDisk& disk) {
         auto [log, rec] = open_ok(disk);
         ASSERT_FALSE(log.mark_initialized({{"s", ver(1, "s1")}}));
         disk.put_durable("log", "FGQ-not-a-log-header");
       }},
  };
  for (const Setup& setup : setups) {
    SCOPED_TRACE(setup.name);
    SimDisk reference_disk;
    setup.prepare(reference_disk);
    Recovered reference = open_ok(reference_disk).recovered;
    for (std::size_t ops = 0; ops < 8; ++ops) {
      SCOPED_TRACE("halt after " + std::to_string(ops));
      SimDisk disk;
      setup.prepare(disk);
      disk.halt_after(ops);
      (void)open_replica_log(disk);
      std::mt19937_64 rng(ops);
      disk.crash(rng);
      Recovered rec = open_ok(disk).recovered;
      EXPECT_EQ(rec.initialized, reference.initialized);
      EXPECT_EQ(disk.read("log").value(), reference_disk.read("log").value());
      // A state that is not initialized will be rebuilt from peers; only a served state must be exact.
      if (reference.initialized) {
        EXPECT_EQ(rec.entries, reference.entries);
      }
      // And not initialized stays so.
      EXPECT_EQ(open_ok(disk).recovered.initialized, reference.initialized);
    }
  }
}

}  // namespace
}  // namespace fg::quorum
