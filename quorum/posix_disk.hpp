#pragma once
// PosixDisk: Disk on a real directory.
//
// It keeps a descriptor of the directory and works relative to it (openat, renameat, unlinkat), so the
// directory can be fsync'ed after a rename, an unlink or a file's creation: without that, a crash may
// forget a new name even though the file's data was synced. Files appended to are kept open
// (O_APPEND), because the log is appended to on every store and reopening it each time would cost a
// path lookup per record. Files are created 0600 and the directory 0700: the state is this replica's
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

#include "loop/unique_fd.hpp"
#include "quorum/disk.hpp"

namespace fg::quorum {

struct PosixDiskOptions {
  // When false, sync() returns at once without fdatasync: the benchmark's "fdatasync off" mode. This
  // trades durability for speed: a power loss then loses stores this replica has acknowledged, which a
  // quorum register may not do (a majority must still hold every acknowledged write). Never turn it off
  // in production. replace(), truncate(), rename() and remove() stay durable either way.
  bool sync_enabled = true;
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
  std::error_code replace(std::string_view name, std::string_view bytes) override;
  std::error_code truncate(std::string_view name, std::uint64_t size) override;
  std::error_code rename(std::string_view from, std::string_view to) override;
  std::error_code remove(std::string_view name) override;

  const std::filesystem::path& dir() const noexcept { return path_; }

 private:
  PosixDisk(std::filesystem::path path, loop::UniqueFd dir, PosixDiskOptions options);

  // The open append descriptor of `name`, opening (and creating) it if needed.
  std::expected<int, std::error_code> append_fd(std::string_view name);
  // fsync of the directory, which makes creations, renames and unlinks in it durable.
  std::error_code sync_dir();
  void forget(std::string_view name) noexcept;

  std::filesystem::path path_;
  loop::UniqueFd dir_;
  PosixDiskOptions options_;
  std::map<std::string, loop::UniqueFd, std::less<>> append_fds_;
  // A file was created since the directory was last synced: the next sync() syncs the directory too.
  bool dir_dirty_ = false;
};

}  // namespace fg::quorum
