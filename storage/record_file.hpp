#pragma once
// RecordFile: an append-only file of CRC-framed records on a Disk, with a versioned header. The register's
// log and the MQTT spool's segments are made of these. The byte layout is in storage/record_format.hpp
// and docs/storage.md.
//
//   storage::FileFormat kSegment{.magic = "FGSPOOL\n", .version = 1, .max_payload = 64 * 1024};
//
//   auto file = storage::RecordFile::create(disk, "seg-000001", kSegment);   // header only, durable
//   file->append(bytes);                    // write(2); visible to read() at once, durable after sync()
//   file->append(more);
//   file->sync();                           // one fdatasync for both: acknowledge after this
//
//   // After a restart (or a crash):
//   auto opened = storage::RecordFile::open(disk, "seg-000001", kSegment,
//                                           [&](std::string_view payload, std::uint64_t offset) { ... });
//   if (!opened) ...                        // absent, damaged header, newer version: see open()
//   switch (opened->scan.tail) {
//     case Tail::clean:   break;
//     case Tail::torn:    opened->file.cut_tail(); break;     // a crash while appending: cut it off
//     case Tail::corrupt: disk.rename(name, name + ".corrupt"); ...   // or cut_tail(), as the owner decides
//   }
//
// What a crash costs: records appended since the last successful sync() may be lost, wholly or in part
// (a torn tail); synced records survive. A torn tail is found by open() and cut by cut_tail(). A bad
// record with intact ones after it is not what a crash of ours leaves (Tail::corrupt): the owner decides
// whether to set the file aside or cut it, and says so loudly.
//
// Failures: a failed append is cut back (a short write before ENOSPC must not leave garbage in front of
// the next record); after a failed sync, or a failed cut, the file refuses every further write
// (StorageError::file_failed) because the kernel may have dropped the unsynced pages and a retry could
// "succeed" without them. The owner must stop acknowledging and reopen the file (open() finds what really
// reached the disk).
//
// Known limits: open() reads the whole file into memory, so files are meant to stay a few MiB (a spool
// segment, a log compacted now and then). One RecordFile per file name; two would interleave appends.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>

#include "storage/disk.hpp"
#include "storage/record_format.hpp"

namespace fg::storage {

using record_format::RecordVisitor;
using record_format::Scan;
using record_format::Tail;

struct OpenedRecordFile;

class RecordFile {
 public:
  // Creates `name` holding only the header of `format`'s version, replacing any file of that name,
  // durably (Disk::replace): a crash leaves no file, the old file, or the new empty one.
  static std::expected<RecordFile, std::error_code> create(Disk& disk, std::string name, FileFormat format);
  // Creates `name`, which must not exist, with the header written by a plain append: nothing is synced on
  // the caller's thread. The header is durable with the file's first sync (pending() is true), whose
  // Disk::sync_job also syncs the directory entry. A crash before it leaves no file or one whose header is
  // cut short (StorageError::torn_header at open()), which the owner then treats as never created.
  static std::expected<RecordFile, std::error_code> create_unsynced(Disk& disk, std::string name,
                                                                    FileFormat format);

  // Opens an existing file: checks its header, calls `visit` (which may be empty) for each intact record in
  // order, and finds the end of the intact records. Nothing is changed on disk. Errors: the disk's
  // (std::errc::no_such_file_or_directory if absent); StorageError::newer_format for a version above
  // format.version and StorageError::older_format for one below format.oldest_version (neither touched);
  // a damaged header (is_damaged_header(): torn_header, bad_magic, bad_header_crc, bad_version).
  static std::expected<OpenedRecordFile, std::error_code> open(Disk& disk, std::string name,
                                                               FileFormat format,
                                                               const RecordVisitor& visit = {});

  RecordFile(RecordFile&&) noexcept = default;
  RecordFile& operator=(RecordFile&&) noexcept = default;
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  // Appends one record. Not durable until sync(). Refused, with nothing written: a payload above
  // max_payload (StorageError::record_too_large), a damaged tail not yet cut (damaged_tail), a file that
  // failed (file_failed). A disk error is returned after the partial record is cut off again.
  std::error_code append(std::string_view payload);
  // Makes every record appended so far durable (one Disk::sync: group commit); nothing pending is success.
  std::error_code sync();
  // sync() in two halves, for a sync off the caller's thread (Disk::sync_job): sync_job() takes the pending
  // records (pending() is false after it; records appended later wait for the next sync) and returns the
  // work, empty if nothing is pending; a failed job's owner calls sync_failed(), after which the file
  // refuses every further write, as after a failed sync().
  std::expected<Disk::SyncJob, std::error_code> sync_job();
  void sync_failed() noexcept { failed_ = true; }
  // Cuts the file back to its intact records, durably, after open() found a torn or corrupt tail.
  std::error_code cut_tail();
  // Empties the file down to its header, durably (after the owner moved its records elsewhere, such as
  // into a snapshot). Pending records must be synced or given up first: they are cut too.
  std::error_code clear();

  const std::string& name() const noexcept { return name_; }
  const FileFormat& format() const noexcept { return format_; }
  // Bytes of the file, header included, as appended (synced or not).
  std::uint64_t size() const noexcept { return size_; }
  // Bytes of records, synced or not (size() without the header).
  std::uint64_t record_bytes() const noexcept { return size_ - record_format::kHeaderBytes; }
  // Whether records wait for sync().
  bool pending() const noexcept { return pending_; }
  bool failed() const noexcept { return failed_; }
  // Whether open() found a torn or corrupt tail that cut_tail() has not cut yet.
  bool tail_damaged() const noexcept { return damaged_tail_; }

 private:
  RecordFile(Disk& disk, std::string name, FileFormat format, std::uint64_t size)
      : disk_(&disk), name_(std::move(name)), format_(format), size_(size) {}

  Disk* disk_;
  std::string name_;
  FileFormat format_;
  std::uint64_t size_;
  bool pending_ = false;
  bool failed_ = false;
  bool damaged_tail_ = false;
};

struct OpenedRecordFile {
  RecordFile file;
  std::uint32_t version = 0;  // the header's, between format.oldest_version and format.version
  Scan scan;                  // records read, where they end, and what follows them
  std::string damaged;        // the bytes after the intact records (scan.damaged_bytes of them)
};

// A whole record file built in memory and written at once with Disk::replace (a snapshot, a small state
// file): a crash then leaves the old file or the new one, never a torn one.
class RecordFileImage {
 public:
  explicit RecordFileImage(const FileFormat& format);
  // Adds a record; a payload above max_payload is refused (StorageError::record_too_large).
  std::error_code add(std::string_view payload);
  const std::string& bytes() const noexcept { return bytes_; }
  std::error_code write(Disk& disk, std::string_view name) const { return disk.replace(name, bytes_); }

 private:
  std::uint32_t max_payload_;
  std::string bytes_;
};

}  // namespace fg::storage
