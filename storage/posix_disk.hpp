#pragma once
// PosixDisk: Disk on a real directory.
//
// It keeps a descriptor of the directory and works relative to it (openat, renameat, unlinkat), so the
// directory can be fsync'ed after a rename, an unlink or a file's creation: without that, a crash may
// forget a new name even though the file's data was synced. Files appended to are kept open
// (O_APPEND), because a log is appended to on every record and reopening it each time would cost a
// path lookup per record. Files are created 0600 and the directory 0700: the state is this program's
// alone.
//
// Known limits: the directory itself is created only if its parent exists (the service's state directory
// is made by systemd); a file removed or replaced behind our back keeps receiving appends through the
// open descriptor until this object replaces, renames or removes it itself.

#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/disk.hpp"
#include "storage/unique_fd.hpp"

namespace fg::storage {

struct PosixDiskOptions {
  // When false, sync() returns at once without fdatasync: the benchmark's "fdatasync off" mode. This
  // trades durability for speed: a power loss then loses what was acknowledged as durable. Never turn it
  // off in production. replace(), truncate(), rename() and remove() stay durable either way.
  bool sync_enabled = true;
  // When true, open() takes an advisory lock (flock) on the file "lock" in the directory and holds it for
  // the PosixDisk's life, so two processes never write one directory: the second open() fails with
  // StorageError::in_use. The lock goes with the process, however it ends.
  bool exclusive = false;
};

class PosixDisk final : public Disk {
 public:
  // Opens `dir`, creating it (mode 0700) if it is missing.
  static std::expected<PosixDisk, std::error_code> open(const std::filesystem::path& dir,
                                                        PosixDiskOptions options = {});

  PosixDisk(PosixDisk&&) = default;
  PosixDisk& operator=(PosixDisk&&) = default;
  ~PosixDisk() override = default;

  std::expected<std::string, std::error_code> read(std::string_view name) override;
  std::error_code append(std::string_view name, std::string_view bytes) override;
  std::error_code sync(std::string_view name) override;
  std::expected<SyncJob, std::error_code> sync_job(std::string_view name) override;
  std::error_code replace(std::string_view name, std::string_view bytes) override;
  std::error_code truncate(std::string_view name, std::uint64_t size) override;
  std::error_code rename(std::string_view from, std::string_view to) override;
  std::error_code remove(std::string_view name) override;
  std::error_code discard(std::string_view name) override;
  std::expected<SyncJob, std::error_code> replace_job(std::string_view name, std::string bytes) override;
  std::expected<SyncJob, std::error_code> discard_job(std::vector<std::string> names) override;
  std::expected<std::vector<std::string>, std::error_code> list() override;

  const std::filesystem::path& dir() const noexcept { return path_; }

 private:
  PosixDisk(std::filesystem::path path, UniqueFd dir, UniqueFd lock, PosixDiskOptions options);

  // A descriptor for fdatasync of `name`: its append descriptor if open (`own` stays empty), else one
  // opened read-only into `own`.
  std::expected<int, std::error_code> sync_fd(std::string_view name, UniqueFd& own);
  // ftruncate of `name` to `size`, not synced, through its append descriptor if open, else one opened
  // into `own`; returns the descriptor used.
  std::expected<int, std::error_code> cut_to(std::string_view name, std::uint64_t size, UniqueFd& own);
  // The open append descriptor of `name`, opening (and creating) it if needed.
  std::expected<int, std::error_code> append_fd(std::string_view name);
  // A duplicate of the directory's descriptor, for a job of its own.
  std::expected<UniqueFd, std::error_code> dir_dup() const;
  // fsync of the directory, which makes creations, renames and unlinks in it durable.
  std::error_code sync_dir();
  void forget(std::string_view name) noexcept;

  std::filesystem::path path_;
  UniqueFd dir_;
  UniqueFd lock_;  // the flock of PosixDiskOptions::exclusive, if asked for
  PosixDiskOptions options_;
  std::map<std::string, UniqueFd, std::less<>> append_fds_;
  // A file was created since the directory was last synced: the next sync() syncs the directory too.
  bool dir_dirty_ = false;
};

}  // namespace fg::storage
