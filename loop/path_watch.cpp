#include "loop/path_watch.hpp"

#include <sys/stat.h>

#include <optional>

#include "loop/inotify.hpp"

namespace fg::loop {
namespace {

constexpr std::uint32_t kDirectoryMask =
    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// IN_ATTRIB because unlinking a file that someone holds open (a tty the gateway reads) changes its link
// count at once, while IN_DELETE_SELF waits for the last close.
constexpr std::uint32_t kFileExistenceMask = IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr std::uint32_t kFileContentMask = IN_MODIFY | IN_CLOSE_WRITE;

struct FileId {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileId&) const = default;
};

// The identity of the file the path names now (following a final symlink, as opening it would), or
// nothing if it does not exist. A dangling symlink counts as not existing.
std::optional<FileId> identify(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    return std::nullopt;
  }
  return FileId{st.st_dev, st.st_ino};
}

}  // namespace

const char* to_string(PathChange change) noexcept {
  switch (change) {
    case PathChange::appeared:
      return "appeared";
    case PathChange::modified:
      return "modified";
    case PathChange::replaced:
      return "replaced";
    case PathChange::disappeared:
      return "disappeared";
  }
  return "?";
}

struct PathWatch::State {
  Inotify inotify;
  std::filesystem::path path;
  Callback callback;
  std::uint32_t file_mask = kFileExistenceMask;
  std::filesystem::path watched_dir;
  int dir_watch = -1;
  int file_watch = -1;
  std::optional<FileId> current;

  // Re-reads the state of the path, moves the watches, and reports what changed. Returns the change,
  // if any, so the caller reports it (after this function has finished touching *this).
  std::optional<PathChange> resync() {
    watch_deepest_existing_ancestor();
    auto now = identify(path);
    auto before = current;
    current = now;
    if (now != before && file_watch >= 0) {
      inotify.remove_watch(file_watch);  // fails harmlessly if the kernel already dropped it
      file_watch = -1;
    }
    if (now && file_watch < 0) {
      if (auto wd = inotify.add_watch(path.string(), file_mask)) {
        file_watch = *wd;
      }
    }
    if (!before && now) {
      return PathChange::appeared;
    }
    if (before && !now) {
      return PathChange::disappeared;
    }
    if (before && now && *before != *now) {
      return PathChange::replaced;
    }
    return std::nullopt;
  }

  void watch_deepest_existing_ancestor() {
    auto dir = path.parent_path();
    while (!dir.empty() && dir != dir.root_path() && !std::filesystem::is_directory(dir)) {
      dir = dir.parent_path();
    }
    if (dir.empty()) {
      dir = ".";
    }
    if (dir == watched_dir && dir_watch >= 0) {
      return;
    }
    if (dir_watch >= 0) {
      inotify.remove_watch(dir_watch);
      dir_watch = -1;
    }
    if (auto wd = inotify.add_watch(dir.string(), kDirectoryMask)) {
      dir_watch = *wd;
      watched_dir = dir;
    }
  }

  // A watch that ended (IN_IGNORED) or follows its inode elsewhere (IN_MOVE_SELF) is dropped, so resync()
  // adds a fresh one on whatever the path names now.
  void forget_if_ended(int& watch, std::uint32_t mask) {
    if ((mask & IN_MOVE_SELF) != 0) {
      inotify.remove_watch(watch);
    }
    if ((mask & (IN_IGNORED | IN_MOVE_SELF | IN_DELETE_SELF)) != 0) {
      watch = -1;
    }
  }

  void on_event(const InotifyEvent& event) {
    std::optional<PathChange> change;
    if ((event.mask & IN_Q_OVERFLOW) != 0) {
      change = resync();
    } else if (event.watch == dir_watch) {
      forget_if_ended(dir_watch, event.mask);
      change = resync();
    } else if (event.watch == file_watch) {
      if ((event.mask & kFileContentMask) != 0) {
        change = PathChange::modified;
      } else {
        forget_if_ended(file_watch, event.mask);
        change = resync();
      }
    }
    // Events of watches already replaced (their IN_IGNORED arrives late) match neither and are dropped.
    if (change && callback) {
      auto run = callback;
      run(*change);  // may destroy *this: nothing touches it afterwards
    }
  }
};

PathWatch::PathWatch(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
PathWatch::PathWatch(PathWatch&&) noexcept = default;
PathWatch& PathWatch::operator=(PathWatch&&) noexcept = default;
PathWatch::~PathWatch() = default;

std::expected<PathWatch, std::error_code> PathWatch::create(Loop& loop, std::filesystem::path path,
                                                            Callback callback, Scope scope) {
  auto inotify = Inotify::create(loop);
  if (!inotify) {
    return std::unexpected(inotify.error());
  }
  auto state = std::make_unique<State>(
      State{std::move(*inotify), std::move(path), std::move(callback), kFileExistenceMask, {}, -1, -1, {}});
  if (scope == Scope::existence_and_content) {
    state->file_mask |= kFileContentMask;
  }
  state->resync();  // the initial state is not a change: nothing is reported for it
  if (state->dir_watch < 0) {
    return std::unexpected(std::make_error_code(std::errc::no_such_file_or_directory));
  }
  if (auto ec = state->inotify.start([s = state.get()](const InotifyEvent& e) { s->on_event(e); })) {
    return std::unexpected(ec);
  }
  return PathWatch(std::move(state));
}

bool PathWatch::exists() const noexcept {
  return state_->current.has_value();
}
const std::filesystem::path& PathWatch::path() const noexcept {
  return state_->path;
}

}  // namespace fg::loop
