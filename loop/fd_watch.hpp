#pragma once
// FdWatch: the part shared by the handles that own a kernel descriptor and read it when it becomes
// readable (eventfd, timerfd, signalfd, inotify). It owns the descriptor and the Poll on it, and lives
// on the heap inside its handle so the handle can move while the Poll callback keeps a stable pointer.

#include <expected>

#include "loop/poll.hpp"
#include "loop/unique_fd.hpp"

namespace fg::loop {

struct FdWatch {
  // Takes ownership of `fd` (the result of a *_create call; -1 means it failed and errno says why).
  static std::expected<FdWatch, std::error_code> adopt(Loop& loop, int fd) {
    UniqueFd owned(fd);
    if (!owned) {
      return std::unexpected(errno_error());
    }
    auto poll = Poll::create(loop, fd);
    if (!poll) {
      return std::unexpected(poll.error());
    }
    return FdWatch{std::move(owned), std::move(*poll)};
  }

  // Declared before `poll` so it is destroyed after it: the Poll leaves epoll before the fd closes.
  UniqueFd fd;
  Poll poll;
};

}  // namespace fg::loop
