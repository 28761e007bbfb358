#pragma once
// PathWatch: watch a path, not an inode. It reports the path appearing, its content changing, the file
// behind it being replaced, and the path disappearing, and it keeps working through all of them:
// - a device node in /dev, or a /dev/serial/by-id link, that vanishes on unplug and returns on replug
//   (even when udev removes and re-creates /dev/serial/by-id itself);
// - a config file an editor replaces by writing a new file and renaming it over the old one.
//
// How: it watches the deepest existing ancestor directory of the path for entries coming and going,
// and the path itself (following symlinks) for content changes; after any structural event it looks
// at the path again (lstat) and moves its watches. Known limit: events are coalesced by looking at the
// path, so a delete and re-create that both happen between two wake-ups may show as `replaced` (or
// not at all, if the new file has the same inode number), never as a disappear/appear pair.

#include <expected>
#include <filesystem>
#include <functional>
#include <memory>

#include "loop/loop.hpp"

namespace fg::loop {

enum class PathChange {
  appeared,     // the path exists now and did not before
  modified,     // the file's content was written (IN_MODIFY / IN_CLOSE_WRITE)
  replaced,     // the path now names a different file (rename over it, unplug + replug)
  disappeared,  // the path does not exist any more
};

const char* to_string(PathChange change) noexcept;

class PathWatch {
 public:
  using Callback = std::function<void(PathChange change)>;

  // What to report. Device nodes want `existence` only: the kernel reports every write to a tty as a
  // modification of its node.
  enum class Scope { existence, existence_and_content };

  // Starts watching at once. The path need not exist, nor its parent directory; the root must.
  static std::expected<PathWatch, std::error_code> create(Loop& loop, std::filesystem::path path,
                                                          Callback callback,
                                                          Scope scope = Scope::existence_and_content);

  PathWatch(PathWatch&&) noexcept;
  PathWatch& operator=(PathWatch&&) noexcept;
  ~PathWatch();

  bool exists() const noexcept;
  const std::filesystem::path& path() const noexcept;

 private:
  struct State;
  explicit PathWatch(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace fg::loop
