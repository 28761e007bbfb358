#include "storage/record_file.hpp"

#include <utility>

#include "storage/error.hpp"

namespace fg::storage {

namespace rf = record_format;

std::expected<RecordFile, std::error_code> RecordFile::create(Disk& disk, std::string name,
                                                              FileFormat format) {
  if (std::error_code ec = disk.replace(name, rf::encode_header(format.magic, format.version))) {
    return std::unexpected(ec);
  }
  return RecordFile(disk, std::move(name), format, rf::kHeaderBytes);
}

std::expected<RecordFile, std::error_code> RecordFile::create_unsynced(Disk& disk, std::string name,
                                                                       FileFormat format) {
  if (std::error_code ec = disk.append(name, rf::encode_header(format.magic, format.version))) {
    (void)disk.remove(name);  // a short write: leave no torn header behind
    return std::unexpected(ec);
  }
  RecordFile file(disk, std::move(name), format, rf::kHeaderBytes);
  file.pending_ = true;
  return file;
}

std::expected<OpenedRecordFile, std::error_code> RecordFile::open(Disk& disk, std::string name,
                                                                  FileFormat format,
                                                                  const RecordVisitor& visit) {
  auto bytes = disk.read(name);
  if (!bytes) {
    return std::unexpected(bytes.error());
  }
  rf::HeaderCheck header = rf::check_header(format.magic, format.version, *bytes);
  if (header.status != rf::HeaderStatus::ok) {
    return std::unexpected(rf::header_error(header.status));
  }
  if (header.version < format.oldest_version) {
    return std::unexpected(make_error_code(StorageError::older_format));
  }
  Scan scan = rf::scan_records(*bytes, format.max_payload, visit);
  RecordFile file(disk, std::move(name), format, scan.intact_bytes);
  file.damaged_tail_ = scan.tail != Tail::clean;
  std::string damaged = bytes->substr(static_cast<std::size_t>(scan.intact_bytes));
  return OpenedRecordFile{std::move(file), header.version, scan, std::move(damaged)};
}

std::error_code RecordFile::append(std::string_view payload) {
  if (failed_) {
    return StorageError::file_failed;
  }
  if (damaged_tail_) {
    return StorageError::damaged_tail;
  }
  if (payload.size() > format_.max_payload) {
    return StorageError::record_too_large;
  }
  std::string record;
  record.reserve(rf::kRecordOverhead + payload.size());
  rf::append_record(record, payload);
  if (std::error_code ec = disk_->append(name_, record)) {
    // A failed write may have left part of the record (a short write before ENOSPC). Cut it off, or
    // the next good record would follow garbage and be thrown away with it at the next open.
    if (disk_->truncate(name_, size_)) {
      failed_ = true;
    }
    return ec;
  }
  size_ += record.size();
  pending_ = true;
  return {};
}

std::error_code RecordFile::sync() {
  if (failed_) {
    return StorageError::file_failed;
  }
  if (!pending_) {
    return {};
  }
  if (std::error_code ec = disk_->sync(name_)) {
    failed_ = true;
    return ec;
  }
  pending_ = false;
  return {};
}

std::expected<Disk::SyncJob, std::error_code> RecordFile::sync_job() {
  if (failed_) {
    return std::unexpected(make_error_code(StorageError::file_failed));
  }
  if (!pending_) {
    return Disk::SyncJob();
  }
  auto job = disk_->sync_job(name_);
  if (!job) {
    failed_ = true;  // as a failed sync: what was appended is not known to become durable
    return job;
  }
  pending_ = false;
  return job;
}

std::error_code RecordFile::cut_tail() {
  if (failed_) {
    return StorageError::file_failed;
  }
  if (!damaged_tail_) {
    return {};
  }
  if (std::error_code ec = disk_->truncate(name_, size_)) {
    failed_ = true;
    return ec;
  }
  damaged_tail_ = false;
  return {};
}

std::error_code RecordFile::clear() {
  if (failed_) {
    return StorageError::file_failed;
  }
  if (std::error_code ec = disk_->truncate(name_, rf::kHeaderBytes)) {
    failed_ = true;
    return ec;
  }
  size_ = rf::kHeaderBytes;
  pending_ = false;
  damaged_tail_ = false;
  return {};
}

RecordFileImage::RecordFileImage(const FileFormat& format)
    : max_payload_(format.max_payload), bytes_(rf::encode_header(format.magic, format.version)) {}

std::error_code RecordFileImage::add(std::string_view payload) {
  if (payload.size() > max_payload_) {
    return StorageError::record_too_large;
  }
  rf::append_record(bytes_, payload);
  return {};
}

}  // namespace fg::storage
