#pragma once
// UniqueFd: sole owner of a file descriptor, closed on destruction.
//
// storage/ is a floor of its own beside loop/ and may not use loop::UniqueFd (which would tie durable
// storage to libuv's module), so it keeps this copy of the same twenty lines.

#include <unistd.h>

#include <utility>

namespace fg::storage {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.fd_, -1));
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) {
      // close() errors are not actionable here: on Linux the descriptor is released even on EINTR.
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace fg::storage
