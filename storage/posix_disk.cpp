#include "storage/posix_disk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "storage/error.hpp"

namespace fg::storage {
namespace {

std::error_code errno_error(int err = errno) noexcept {
  return {err, std::system_category()};
}

std::error_code invalid_name() {
  return std::make_error_code(std::errc::invalid_argument);
}

// Writes all of `bytes`, going on after a short write or EINTR.
std::error_code write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error();
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// fsync and fdatasync may report EINTR on some file systems (FUSE, NFS); the call is simply repeated.
std::error_code retry_sync(int fd, int (*sync_fn)(int)) {
  while (sync_fn(fd) != 0) {
    if (errno != EINTR) {
      return errno_error();
    }
  }
  return {};
}

UniqueFd open_at(int dir, const std::string& name, int flags, mode_t mode = 0) {
  while (true) {
    int fd = ::openat(dir, name.c_str(), flags | O_CLOEXEC | O_NOCTTY, mode);
    if (fd >= 0 || errno != EINTR) {
      return UniqueFd(fd);
    }
  }
}

// The advisory lock of PosixDiskOptions::exclusive: flock on "lock" inside the directory. flock (not
// fcntl's record locks) because it belongs to the open file description: closing another descriptor of
// the same file elsewhere in the process does not drop it.
std::expected<UniqueFd, std::error_code> lock_dir(int dir) {
  UniqueFd lock = open_at(dir, "lock", O_RDWR | O_CREAT, 0600);
  if (!lock) {
    return std::unexpected(errno_error());
  }
  while (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return std::unexpected(make_error_code(StorageError::in_use));
    }
    if (errno != EINTR) {
      return std::unexpected(errno_error());
    }
  }
  return lock;
}

}  // namespace

PosixDisk::PosixDisk(std::filesystem::path path, UniqueFd dir, UniqueFd lock, PosixDiskOptions options)
    : path_(std::move(path)), dir_(std::move(dir)), lock_(std::move(lock)), options_(options) {}

std::expected<PosixDisk, std::error_code> PosixDisk::open(const std::filesystem::path& dir,
                                                          PosixDiskOptions options) {
  bool created = false;
  if (::mkdir(dir.c_str(), 0700) == 0) {
    created = true;
  } else if (errno != EEXIST) {
    return std::unexpected(errno_error());
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return std::unexpected(errno_error());
  }
  if (created) {
    // The new directory's own name lives in its parent: sync the parent, or a crash may forget the
    // directory along with everything later synced inside it.
    std::filesystem::path parent = dir.parent_path().empty() ? "." : dir.parent_path();
    UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent_fd) {
      return std::unexpected(errno_error());
    }
    if (std::error_code ec = retry_sync(parent_fd.get(), ::fsync)) {
      return std::unexpected(ec);
    }
  }
  UniqueFd lock;
  if (options.exclusive) {
    auto locked = lock_dir(fd.get());
    if (!locked) {
      return std::unexpected(locked.error());
    }
    lock = std::move(*locked);
  }
  return PosixDisk(dir, std::move(fd), std::move(lock), options);
}

std::expected<std::string, std::error_code> PosixDisk::read(std::string_view name) {
  if (!valid_disk_name(name)) {
    return std::unexpected(invalid_name());
  }
  UniqueFd fd = open_at(dir_.get(), std::string(name), O_RDONLY);
  if (!fd) {
    return std::unexpected(errno_error());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return std::unexpected(errno_error());
  }
  std::string content;
  content.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(errno_error());
    }
    if (n == 0) {
      return content;
    }
    content.append(buf, static_cast<std::size_t>(n));
  }
}

std::expected<int, std::error_code> PosixDisk::append_fd(std::string_view name) {
  if (auto it = append_fds_.find(name); it != append_fds_.end()) {
    return it->second.get();
  }
  std::string file(name);
  UniqueFd fd = open_at(dir_.get(), file, O_WRONLY | O_APPEND);
  if (!fd && errno == ENOENT) {
    fd = open_at(dir_.get(), file, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0600);
    if (fd) {
      dir_dirty_ = true;
    }
  }
  if (!fd) {
    return std::unexpected(errno_error());
  }
  int raw = fd.get();
  append_fds_.emplace(std::move(file), std::move(fd));
  return raw;
}

std::error_code PosixDisk::append(std::string_view name, std::string_view bytes) {
  if (!valid_disk_name(name)) {
    return invalid_name();
  }
  auto fd = append_fd(name);
  if (!fd) {
    return fd.error();
  }
  return write_all(*fd, bytes);
}

std::expected<int, std::error_code> PosixDisk::sync_fd(std::string_view name, UniqueFd& own) {
  if (auto it = append_fds_.find(name); it != append_fds_.end()) {
    return it->second.get();
  }
  // fdatasync works on a read-only descriptor on Linux; the data to flush is the inode's, not the fd's.
  own = open_at(dir_.get(), std::string(name), O_RDONLY);
  if (!own) {
    return std::unexpected(errno_error());
  }
  return own.get();
}

std::error_code PosixDisk::sync(std::string_view name) {
  if (!valid_disk_name(name)) {
    return invalid_name();
  }
  if (!options_.sync_enabled) {
    return {};
  }
  UniqueFd own;
  auto fd = sync_fd(name, own);
  if (!fd) {
    return fd.error();
  }
  if (std::error_code ec = retry_sync(*fd, ::fdatasync)) {
    return ec;
  }
  return dir_dirty_ ? sync_dir() : std::error_code();
}

std::expected<Disk::SyncJob, std::error_code> PosixDisk::sync_job(std::string_view name) {
  if (!valid_disk_name(name)) {
    return std::unexpected(invalid_name());
  }
  if (!options_.sync_enabled) {
    return SyncJob([] { return std::error_code(); });
  }
  UniqueFd own;
  auto fd = sync_fd(name, own);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  // The job's own descriptors: the file's (and the directory's, if a file was created since it was
  // last synced), so that closing, renaming or removing the file meanwhile changes nothing for it.
  UniqueFd file = own ? std::move(own) : UniqueFd(::fcntl(*fd, F_DUPFD_CLOEXEC, 0));
  UniqueFd dir = dir_dirty_ ? UniqueFd(::fcntl(dir_.get(), F_DUPFD_CLOEXEC, 0)) : UniqueFd();
  if (!file || (dir_dirty_ && !dir)) {
    return std::unexpected(errno_error());
  }
  // A failure of the job fails the file's sync, and its owner stops writing the file: the directory
  // need not be marked dirty again.
  dir_dirty_ = false;
  return SyncJob([file = std::move(file), dir = std::move(dir)] {
    if (std::error_code ec = retry_sync(file.get(), ::fdatasync)) {
      return ec;
    }
    return dir ? retry_sync(dir.get(), ::fsync) : std::error_code();
  });
}

namespace {

// replace() relative to the directory `dir`: the bytes to `name + ".tmp"`, fdatasync, rename over `name`,
// fsync of the directory. Touches nothing but its arguments, so a job on another thread may run it.
std::error_code replace_at(int dir, const std::string& file, std::string_view bytes) {
  const std::string temp = file + ".tmp";
  std::error_code ec;
  {
    UniqueFd fd = open_at(dir, temp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!fd) {
      return errno_error();
    }
    ec = write_all(fd.get(), bytes);
    if (!ec) {
      ec = retry_sync(fd.get(), ::fdatasync);
    }
  }
  if (!ec && ::renameat(dir, temp.c_str(), dir, file.c_str()) != 0) {
    ec = errno_error();
  }
  if (ec) {
    ::unlinkat(dir, temp.c_str(), 0);  // Best effort: a leftover temp file is overwritten next time.
    return ec;
  }
  return retry_sync(dir, ::fsync);
}

}  // namespace

std::error_code PosixDisk::replace(std::string_view name, std::string_view bytes) {
  if (!valid_disk_name(name)) {
    return invalid_name();
  }
  std::string file(name);
  forget(file + ".tmp");
  std::error_code ec = replace_at(dir_.get(), file, bytes);
  // An append descriptor of `name` now points at the replaced file, which no longer has a name.
  forget(name);
  if (!ec) {
    dir_dirty_ = false;  // replace_at synced the directory
  }
  return ec;
}

std::expected<Disk::SyncJob, std::error_code> PosixDisk::replace_job(std::string_view name,
                                                                     std::string bytes) {
  if (!valid_disk_name(name)) {
    return std::unexpected(invalid_name());
  }
  auto dir = dir_dup();
  if (!dir) {
    return std::unexpected(dir.error());
  }
  std::string file(name);
  forget(file + ".tmp");
  forget(file);  // the rename replaces the file an append descriptor would point at
  return SyncJob([dir = std::move(*dir), file = std::move(file), bytes = std::move(bytes)] {
    return replace_at(dir.get(), file, bytes);
  });
}

std::expected<int, std::error_code> PosixDisk::cut_to(std::string_view name, std::uint64_t size,
                                                      UniqueFd& own) {
  int fd = -1;
  if (auto it = append_fds_.find(name); it != append_fds_.end()) {
    fd = it->second.get();
  } else {
    own = open_at(dir_.get(), std::string(name), O_WRONLY);
    if (!own) {
      return std::unexpected(errno_error());
    }
    fd = own.get();
  }
  while (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) {
      return std::unexpected(errno_error());
    }
  }
  return fd;
}

std::error_code PosixDisk::truncate(std::string_view name, std::uint64_t size) {
  if (!valid_disk_name(name)) {
    return invalid_name();
  }
  UniqueFd own;
  auto fd = cut_to(name, size, own);  // O_APPEND writes go to the new end after it
  if (!fd) {
    return fd.error();
  }
  // fsync rather than fdatasync: the size is the point of the call.
  if (std::error_code ec = retry_sync(*fd, ::fsync)) {
    return ec;
  }
  return dir_dirty_ ? sync_dir() : std::error_code();
}

std::error_code PosixDisk::rename(std::string_view from, std::string_view to) {
  if (!valid_disk_name(from) || !valid_disk_name(to)) {
    return invalid_name();
  }
  if (::renameat(dir_.get(), std::string(from).c_str(), dir_.get(), std::string(to).c_str()) != 0) {
    return errno_error();
  }
  forget(from);
  forget(to);
  return sync_dir();
}

std::error_code PosixDisk::remove(std::string_view name) {
  if (!valid_disk_name(name)) {
    return invalid_name();
  }
  if (::unlinkat(dir_.get(), std::string(name).c_str(), 0) != 0) {
    if (errno == ENOENT) {
      return {};
    }
    return errno_error();
  }
  forget(name);
  return sync_dir();
}

std::error_code PosixDisk::discard(std::string_view name) {
  if (!valid_disk_name(name)) {
    return invalid_name();
  }
  // Not synced: the unlink below is, and a crash between the two leaves an empty file, which the owner
  // takes for one never written (Disk::discard).
  UniqueFd own;
  if (auto cut = cut_to(name, 0, own); !cut && cut.error() != std::errc::no_such_file_or_directory) {
    return cut.error();
  }
  return remove(name);
}

std::expected<Disk::SyncJob, std::error_code> PosixDisk::discard_job(std::vector<std::string> names) {
  auto dir = dir_dup();
  if (!dir) {
    return std::unexpected(dir.error());
  }
  // Each file's own descriptor, for the ftruncate that gives its space back even while another job (a
  // group commit) still holds it; opened here, where the append descriptors are, and dropped from them.
  std::vector<std::pair<std::string, UniqueFd>> files;
  for (auto& name : names) {
    if (!valid_disk_name(name)) {
      return std::unexpected(invalid_name());
    }
    UniqueFd fd;
    if (auto it = append_fds_.find(name); it != append_fds_.end()) {
      fd.reset(::fcntl(it->second.get(), F_DUPFD_CLOEXEC, 0));
    } else {
      fd = open_at(dir_.get(), name, O_WRONLY);
    }
    if (!fd && errno != ENOENT) {
      return std::unexpected(errno_error());
    }
    forget(name);
    if (fd) {
      files.emplace_back(std::move(name), std::move(fd));
    }
  }
  return SyncJob([dir = std::move(*dir), files = std::move(files)]() mutable {
    std::error_code first;
    auto note = [&](std::error_code ec) {
      if (ec && !first) {
        first = ec;
      }
    };
    for (auto& [name, fd] : files) {
      // Not synced, as in discard(): the directory's fsync below makes the unlink durable. A failed cut
      // only delays the space until the last descriptor of the unlinked file closes.
      while (::ftruncate(fd.get(), 0) != 0 && errno == EINTR) {
      }
      fd.reset();
      if (::unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        note(errno_error());
      }
    }
    note(retry_sync(dir.get(), ::fsync));
    return first;
  });
}

std::expected<std::vector<std::string>, std::error_code> PosixDisk::list() {
  // readdir needs a DIR of its own: fdopendir takes over the descriptor it is given, and a duplicate
  // shares the directory offset, so it is rewound first.
  int dup = ::fcntl(dir_.get(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return std::unexpected(errno_error());
  }
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    std::error_code ec = errno_error();
    ::close(dup);
    return std::unexpected(ec);
  }
  ::rewinddir(dir);
  std::vector<std::string> names;
  std::error_code ec;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) {
        ec = errno_error();
      }
      break;
    }
    bool regular = entry->d_type == DT_REG;
    if (entry->d_type == DT_UNKNOWN) {  // some file systems do not fill d_type in
      struct stat st {};
      regular = ::fstatat(dir_.get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
    }
    if (regular) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(dir);
  if (ec) {
    return std::unexpected(ec);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::expected<UniqueFd, std::error_code> PosixDisk::dir_dup() const {
  UniqueFd dup(::fcntl(dir_.get(), F_DUPFD_CLOEXEC, 0));
  if (!dup) {
    return std::unexpected(errno_error());
  }
  return dup;
}

std::error_code PosixDisk::sync_dir() {
  if (std::error_code ec = retry_sync(dir_.get(), ::fsync)) {
    return ec;
  }
  dir_dirty_ = false;
  return {};
}

void PosixDisk::forget(std::string_view name) noexcept {
  if (auto it = append_fds_.find(name); it != append_fds_.end()) {
    append_fds_.erase(it);
  }
}

}  // namespace fg::storage
