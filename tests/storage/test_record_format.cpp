// record_format: the byte layout of record files, pinned to what docs/storage.md says, and how damage
// of every kind is told apart.

#include "storage/record_format.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

#include "storage/error.hpp"

namespace fg::storage {
namespace {

namespace rf = record_format;
using rf::HeaderStatus;
using rf::RecordStatus;
using rf::Tail;

constexpr std::string_view kMagic = "FGTEST\n\n";

std::string le32(std::uint32_t value) {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
  return out;
}

std::uint32_t zlib_crc(std::string_view bytes) {
  return static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

std::string record(std::string_view payload) {
  std::string out;
  rf::append_record(out, payload);
  return out;
}

// The records a scan visits, with their offsets.
std::vector<std::pair<std::string, std::uint64_t>> visited(std::string_view file, std::size_t max_payload,
                                                           rf::Scan* scan = nullptr) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  rf::Scan result = rf::scan_records(file, max_payload, [&](std::string_view payload, std::uint64_t offset) {
    out.emplace_back(std::string(payload), offset);
  });
  if (scan != nullptr) {
    *scan = result;
  }
  return out;
}

TEST(RecordFormat, HeaderIsMagicVersionAndCrc) {
  std::string first12 = std::string(kMagic) + le32(3);
  EXPECT_EQ(rf::encode_header(kMagic, 3), first12 + le32(zlib_crc(first12)));
  EXPECT_EQ(rf::encode_header(kMagic, 3).size(), rf::kHeaderBytes);
}

TEST(RecordFormat, HeaderChecksTellTheCasesApart) {
  std::string header = rf::encode_header(kMagic, 2);
  EXPECT_EQ(rf::check_header(kMagic, 2, header).status, HeaderStatus::ok);
  EXPECT_EQ(rf::check_header(kMagic, 2, header).version, 2u);
  EXPECT_EQ(rf::check_header(kMagic, 5, header + "records").status, HeaderStatus::ok);
  // Cut anywhere inside: torn (a crash while the file was made), as long as what is there is ours.
  for (std::size_t cut = 0; cut < rf::kHeaderBytes; ++cut) {
    EXPECT_EQ(rf::check_header(kMagic, 2, header.substr(0, cut)).status, HeaderStatus::torn) << cut;
  }
  EXPECT_EQ(rf::check_header(kMagic, 2, "FGTX").status, HeaderStatus::bad_magic);
  EXPECT_EQ(rf::check_header("FGOTHER\n", 2, header).status, HeaderStatus::bad_magic);
  std::string bad_crc = header;
  bad_crc[15] ^= 1;
  EXPECT_EQ(rf::check_header(kMagic, 2, bad_crc).status, HeaderStatus::bad_crc);
  std::string bad_version_byte = header;
  bad_version_byte[8] ^= 1;  // the CRC covers the version
  EXPECT_EQ(rf::check_header(kMagic, 2, bad_version_byte).status, HeaderStatus::bad_crc);
  EXPECT_EQ(rf::check_header(kMagic, 2, rf::encode_header(kMagic, 0)).status, HeaderStatus::bad_version);
  auto newer = rf::check_header(kMagic, 2, rf::encode_header(kMagic, 7));
  EXPECT_EQ(newer.status, HeaderStatus::newer_version);
  EXPECT_EQ(newer.version, 7u);
}

TEST(RecordFormat, HeaderStatusesMapToStorageErrors) {
  EXPECT_FALSE(rf::header_error(HeaderStatus::ok));
  EXPECT_EQ(rf::header_error(HeaderStatus::newer_version), StorageError::newer_format);
  EXPECT_EQ(rf::header_error(HeaderStatus::newer_version), std::errc::not_supported);
  for (HeaderStatus damaged :
       {HeaderStatus::torn, HeaderStatus::bad_magic, HeaderStatus::bad_crc, HeaderStatus::bad_version}) {
    EXPECT_TRUE(is_damaged_header(rf::header_error(damaged))) << rf::describe(damaged);
  }
  EXPECT_FALSE(is_damaged_header(rf::header_error(HeaderStatus::newer_version)));
  EXPECT_FALSE(is_damaged_header(std::make_error_code(std::errc::io_error)));
}

TEST(RecordFormat, RecordIsCrcThenLengthThenPayload) {
  std::string covered = le32(5) + "hello";
  EXPECT_EQ(record("hello"), le32(zlib_crc(covered)) + covered);
  EXPECT_EQ(record("").size(), rf::kRecordOverhead);

  std::string input = record("hello") + "next record";
  rf::DecodedRecord decoded = rf::decode_record(input, 100);  // Views into `input`.
  ASSERT_EQ(decoded.status, RecordStatus::ok);
  EXPECT_EQ(decoded.size, rf::kRecordOverhead + 5);
  EXPECT_EQ(decoded.payload, "hello");
  EXPECT_EQ(decoded.payload.data(), input.data() + rf::kRecordOverhead);
}

TEST(RecordFormat, PayloadsAreArbitraryBytes) {
  for (std::string payload : {std::string(), std::string("\0\xff\n\r", 4), std::string(65536, 'x')}) {
    std::string encoded = record(payload);  // decode_record returns views into it: keep it alive.
    rf::DecodedRecord decoded = rf::decode_record(encoded, 65536);
    ASSERT_EQ(decoded.status, RecordStatus::ok) << payload.size();
    EXPECT_EQ(decoded.payload, payload);
  }
}

TEST(RecordFormat, DamagedRecordsAreTold) {
  std::string good = record("value");
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_EQ(rf::decode_record(good.substr(0, cut), 100).status, RecordStatus::truncated) << cut;
  }
  for (std::size_t at = 0; at < good.size(); ++at) {
    std::string flipped = good;
    flipped[at] ^= 0x10;
    EXPECT_NE(rf::decode_record(flipped, 100).status, RecordStatus::ok) << at;
  }
  std::string shorter = good;
  shorter.replace(4, 4, le32(4));  // a length that still fits: the CRC covers it
  EXPECT_EQ(rf::decode_record(shorter, 100).status, RecordStatus::bad_crc);
  EXPECT_EQ(rf::decode_record(good, 4).status, RecordStatus::bad_length);  // above max_payload
  std::string huge = good;
  huge.replace(4, 4, le32(0xffffffff));
  EXPECT_EQ(rf::decode_record(huge, 100).status, RecordStatus::bad_length);
}

TEST(RecordFormat, ZeroBytesNeverFormARecord) {
  // Some file systems leave zeros where a crash cut a write: they must read as damage, never as data.
  EXPECT_EQ(rf::decode_record(std::string(64, '\0'), 100).status, RecordStatus::bad_crc);
}

TEST(RecordFormat, ScanVisitsEveryRecordOfACleanFile) {
  std::string file = rf::encode_header(kMagic, 1) + record("one") + record("") + record("three");
  rf::Scan scan;
  auto records = visited(file, 100, &scan);
  std::vector<std::pair<std::string, std::uint64_t>> expected{{"one", 16}, {"", 27}, {"three", 35}};
  EXPECT_EQ(records, expected);
  EXPECT_EQ(scan.records, 3u);
  EXPECT_EQ(scan.intact_bytes, file.size());
  EXPECT_EQ(scan.damaged_bytes, 0u);
  EXPECT_EQ(scan.tail, Tail::clean);
  EXPECT_EQ(scan.stopped_by, RecordStatus::ok);
  // A file of a header alone, and one shorter than a header, hold no records.
  EXPECT_EQ(rf::scan_records(rf::encode_header(kMagic, 1), 100, {}).records, 0u);
  EXPECT_EQ(rf::scan_records("FGT", 100, {}).intact_bytes, 3u);
}

TEST(RecordFormat, ACutAnywhereInTheLastRecordIsATornTail) {
  std::string intact = rf::encode_header(kMagic, 1) + record("one") + record("two");
  std::string last = record("the last one");
  for (std::size_t cut = 1; cut < last.size(); ++cut) {
    rf::Scan scan;
    auto records = visited(intact + last.substr(0, cut), 100, &scan);
    EXPECT_EQ(records.size(), 2u) << cut;
    EXPECT_EQ(scan.tail, Tail::torn) << cut;
    EXPECT_EQ(scan.stopped_by, RecordStatus::truncated) << cut;
    EXPECT_EQ(scan.intact_bytes, intact.size()) << cut;
    EXPECT_EQ(scan.damaged_bytes, cut) << cut;
  }
}

TEST(RecordFormat, DamageFollowedByIntactRecordsIsCorruptAndNothingAfterItIsTrusted) {
  std::string header = rf::encode_header(kMagic, 1);
  std::string file = header + record("one") + record("two") + record("three");
  file[header.size() + record("one").size() + 9] ^= 1;  // the payload of "two"
  rf::Scan scan;
  auto records = visited(file, 100, &scan);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].first, "one");
  EXPECT_EQ(scan.tail, Tail::corrupt);
  EXPECT_EQ(scan.stopped_by, RecordStatus::bad_crc);
  EXPECT_EQ(scan.intact_bytes, header.size() + record("one").size());
  EXPECT_EQ(scan.intact_bytes + scan.damaged_bytes, file.size());
}

TEST(RecordFormat, GarbageWithoutRecordsAfterItIsATornTail) {
  std::string file = rf::encode_header(kMagic, 1) + record("one") + std::string(100, '\xa5');
  rf::Scan scan = rf::scan_records(file, 1000, {});
  EXPECT_EQ(scan.records, 1u);
  EXPECT_EQ(scan.tail, Tail::torn);
  EXPECT_EQ(scan.damaged_bytes, 100u);
}

}  // namespace
}  // namespace fg::storage
