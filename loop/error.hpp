#pragma once
// Errors are values: libuv status codes and errno values become std::error_code.

#include <cerrno>
#include <system_error>

namespace fg::loop {

// The category of libuv status codes. A code holds the negated status (libuv statuses are negative),
// so error_code::value() is the errno number for the errno-like codes and compares equal to std::errc.
const std::error_category& uv_category() noexcept;

// A libuv status (< 0) as an error_code; 0 gives the empty (success) code.
inline std::error_code uv_error(int status) noexcept {
  return status < 0 ? std::error_code(-status, uv_category()) : std::error_code();
}

// The current errno (or a given one) as an error_code of the system category.
inline std::error_code errno_error(int err = errno) noexcept {
  return {err, std::system_category()};
}

}  // namespace fg::loop
