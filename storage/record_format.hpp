#pragma once
// record_format: the byte layout of storage/'s record files, as pure functions over bytes (no I/O, and no
// <expected> here, so a fuzz target built with clang can feed the decoders arbitrary input). The file
// layer on a Disk is storage/record_file.hpp; the layout is documented in docs/storage.md.
//
//   file   = header | record | record | ...          (nothing else: the end of the file ends the records)
//   header = magic (8 bytes) | version u32 | CRC-32 of the 12 bytes before it, u32        (16 bytes)
//   record = CRC-32 of the 4 + N bytes after it, u32 | payload length N, u32 | payload (N bytes)
//
// Integers are little-endian. The CRC is zlib's crc32(). The header's layout is the one thing every
// version of every kind keeps, so any build can tell "written by a newer version" (a valid CRC and a
// higher version: refuse, change nothing) from "damaged". A record's length is checked against the
// format's max_payload before anything is hashed, so a damaged length never makes a reader hash
// megabytes of garbage; the CRC covers the length too, and zero-filled bytes never form a valid record.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

namespace fg::storage {

// One kind of record file: its header's magic and version, and how large a record may be.
struct FileFormat {
  // Exactly 8 bytes naming the kind of file, e.g. "FGSPOOL\n". Other lengths are a programming error.
  std::string_view magic;
  // The version this build writes. A file with a higher version is refused (StorageError::newer_format).
  std::uint32_t version = 1;
  // The oldest version in this framing. A file with a lower version is StorageError::older_format: a
  // format that moved onto record files later reads its older files its own way.
  std::uint32_t oldest_version = 1;
  // The largest payload a record may carry; a longer length field is damage, and append() refuses more.
  std::uint32_t max_payload = 1024 * 1024;
};

namespace record_format {

inline constexpr std::size_t kHeaderBytes = 16;
inline constexpr std::size_t kRecordOverhead = 8;  // CRC u32 + length u32

std::string encode_header(std::string_view magic, std::uint32_t version);

enum class HeaderStatus {
  ok,
  torn,           // shorter than a header and (as far as it goes) the start of one: a crash at creation
  bad_magic,      // not a file of this kind, or its first bytes are damaged
  bad_crc,        // the header's CRC does not match
  bad_version,    // version 0, which nobody writes
  newer_version,  // a valid header of a version above `newest`
};
struct HeaderCheck {
  HeaderStatus status = HeaderStatus::ok;
  std::uint32_t version = 0;  // set for ok and newer_version
};
// Checks the header at the start of `file` against `magic`; versions up to `newest` are ok.
HeaderCheck check_header(std::string_view magic, std::uint32_t newest, std::string_view file) noexcept;
const char* describe(HeaderStatus status) noexcept;
// The StorageError that says `status` (empty for ok).
std::error_code header_error(HeaderStatus status) noexcept;

// Appends one framed record holding `payload` to `out`. The caller checks the length against its format.
void append_record(std::string& out, std::string_view payload);

enum class RecordStatus {
  ok,
  truncated,   // the input ends inside the record (a torn tail, or a length field that is damaged)
  bad_length,  // a length above max_payload: not a record anyone wrote
  bad_crc,     // complete, but its CRC does not match
};
struct DecodedRecord {
  RecordStatus status = RecordStatus::truncated;
  std::size_t size = 0;      // bytes the whole record takes, when ok
  std::string_view payload;  // a view into the input, when ok
};
// Decodes the record at the start of `bytes`.
DecodedRecord decode_record(std::string_view bytes, std::size_t max_payload) noexcept;
const char* describe(RecordStatus status) noexcept;

// What follows the last intact record.
enum class Tail {
  clean,    // nothing: every byte belongs to an intact record
  torn,     // a bad or short record with no intact record after it: what a crash during appends leaves
  corrupt,  // a bad record followed by an intact one: damage no crash of ours explains (bit rot, an
            // overwrite, or pages written out of order in a power cut)
};
const char* describe(Tail tail) noexcept;

struct Scan {
  std::uint64_t records = 0;        // intact records, in order, before the first bad one
  std::uint64_t intact_bytes = 0;   // the header and those records: where the file can be cut
  std::uint64_t damaged_bytes = 0;  // everything after intact_bytes
  Tail tail = Tail::clean;
  RecordStatus stopped_by = RecordStatus::ok;  // the first bad record's status, unless clean
};

// Called with each intact record's payload (a view, valid during the call) and the record's offset in
// the file.
using RecordVisitor = std::function<void(std::string_view payload, std::uint64_t offset)>;

// Walks the records of `file` (a whole file, header included; the header is not checked here) and calls
// `visit` for each intact one, stopping at the first bad one: what follows damage is never trusted, even
// if it parses. `visit` may be empty.
Scan scan_records(std::string_view file, std::size_t max_payload, const RecordVisitor& visit);

}  // namespace record_format
}  // namespace fg::storage
