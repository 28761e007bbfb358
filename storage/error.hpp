#pragma once
// The errors of storage/'s files, beside the errno values a disk reports (system category).

#include <system_error>
#include <type_traits>

namespace fg::storage {

enum class StorageError : int {
  newer_format = 1,  // written by a newer format version than this build knows: refuse, touch nothing
  older_format,      // a version older than this framing (the caller reads such files its own way)
  torn_header,       // shorter than a header and a prefix of one: a crash while the file was created
  bad_magic,         // not a file of this kind, or its first bytes are damaged
  bad_header_crc,    // the header's CRC does not match
  bad_version,       // format version 0, which no build writes
  record_too_large,  // a payload above the format's max_payload: refused, nothing written
  damaged_tail,      // append refused: the file's tail is torn or corrupt and cut_tail() has not cut it
  file_failed,       // an earlier write or sync of this file failed: reopen it before writing again
  in_use,            // another process holds the directory's lock
};

const std::error_category& storage_category() noexcept;

inline std::error_code make_error_code(StorageError e) noexcept {
  return {static_cast<int>(e), storage_category()};
}

// Whether `ec` says a file's header is damaged (torn, bad magic, bad CRC, version 0), as opposed to
// missing, unreadable, or of another version.
inline bool is_damaged_header(const std::error_code& ec) noexcept {
  return ec.category() == storage_category() &&
         (ec.value() == static_cast<int>(StorageError::torn_header) ||
          ec.value() == static_cast<int>(StorageError::bad_magic) ||
          ec.value() == static_cast<int>(StorageError::bad_header_crc) ||
          ec.value() == static_cast<int>(StorageError::bad_version));
}

}  // namespace fg::storage

template <>
struct std::is_error_code_enum<fg::storage::StorageError> : std::true_type {};
