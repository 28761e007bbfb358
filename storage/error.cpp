#include "storage/error.hpp"

#include <string>

namespace fg::storage {
namespace {

class StorageCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "storage"; }

  std::string message(int value) const override {
    switch (static_cast<StorageError>(value)) {
      case StorageError::newer_format:
        return "file written by a newer format version; refusing to open it (run a newer build)";
      case StorageError::older_format:
        return "file written by an older format version than this reader handles";
      case StorageError::torn_header:
        return "file header cut short";
      case StorageError::bad_magic:
        return "bad magic (not a file of this kind, or damaged)";
      case StorageError::bad_header_crc:
        return "file header CRC mismatch";
      case StorageError::bad_version:
        return "format version 0";
      case StorageError::record_too_large:
        return "record larger than the format allows";
      case StorageError::damaged_tail:
        return "the file's damaged tail must be cut before appending";
      case StorageError::file_failed:
        return "an earlier write or sync of the file failed; reopen it before writing";
      case StorageError::in_use:
        return "the directory is in use by another process";
    }
    return "unknown storage error";
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<StorageError>(value)) {
      case StorageError::newer_format:
        return std::errc::not_supported;
      case StorageError::record_too_large:
        return std::errc::value_too_large;
      case StorageError::in_use:
        return std::errc::device_or_resource_busy;
      default:
        return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& storage_category() noexcept {
  static const StorageCategory category;
  return category;
}

}  // namespace fg::storage
