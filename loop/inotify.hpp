#pragma once
// Inotify: watch files and directories (inotify) and get (watch, mask, name) events on the loop.
// This is the raw kernel interface: a watch follows an inode, so it ends (IN_IGNORED) when the file is
// deleted or replaced by a rename. PathWatch (path_watch.hpp) builds "watch this path, whatever happens
// to it" on top of it.

#include <sys/inotify.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "loop/loop.hpp"

namespace fg::loop {

struct InotifyEvent {
  int watch = -1;            // the watch descriptor from add_watch; -1 for IN_Q_OVERFLOW
  std::uint32_t mask = 0;    // IN_* bits
  std::uint32_t cookie = 0;  // pairs IN_MOVED_FROM with IN_MOVED_TO
  std::string_view name;     // entry name inside a watched directory; empty for the watched object itself
};

class Inotify {
 public:
  // The view in `event.name` is valid only during the call.
  using Callback = std::function<void(const InotifyEvent& event)>;

  static std::expected<Inotify, std::error_code> create(Loop& loop);

  Inotify(Inotify&&) noexcept;
  Inotify& operator=(Inotify&&) noexcept;
  ~Inotify();

  // Adds (or, for a path already watched, replaces the mask of) a watch; returns its descriptor.
  std::expected<int, std::error_code> add_watch(const std::string& path, std::uint32_t mask);
  std::error_code remove_watch(int watch) noexcept;

  std::error_code start(Callback callback);
  std::error_code stop() noexcept;
  int fd() const noexcept;

 private:
  struct State;
  explicit Inotify(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace fg::loop
