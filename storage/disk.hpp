#pragma once
// Disk: the few file operations durable state needs, on plain names inside one directory, so the same
// code runs on a real directory (storage/posix_disk.hpp) and on the tests' simulated disk
// (tests/storage/sim_disk.hpp), whose crash() loses what was not synced.
//
// Every name is a plain file name inside the directory: no slashes, not empty, not "." or "..", no NUL.
// Names ending in ".tmp" are reserved: replace() writes its temporary file under `name + ".tmp"`.
//
// Durability contract (what the simulated disk models and the real disk provides):
// - append() adds bytes to the end of a file (creating it) that read() sees at once but a crash may lose;
//   a crash may also keep only a prefix of them, cut anywhere, which is how torn records appear.
// - sync() makes everything appended to that file so far durable, including the file's existence.
// - replace(), truncate(), rename() and remove() are durable when they return.
// - After a failed sync() nothing is promised about the bytes appended since the last good one (the kernel
//   may have dropped the dirty pages and marked them clean): a caller must not retry and trust the
//   retry, but stop writing that file (storage/record_file.hpp does).

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace fg::storage {

// Whether `name` is a name Disk accepts (see above); every disk rejects others with invalid_argument.
inline bool valid_disk_name(std::string_view name) noexcept {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

class Disk {
 public:
  Disk() = default;
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;
  virtual ~Disk() = default;

  // The whole content; the error is std::errc::no_such_file_or_directory if the file is absent.
  virtual std::expected<std::string, std::error_code> read(std::string_view name) = 0;
  // Appends `bytes`, creating the file if needed; not durable until sync().
  virtual std::error_code append(std::string_view name, std::string_view bytes) = 0;
  // fdatasync: everything appended to `name` so far is durable on return.
  virtual std::error_code sync(std::string_view name) = 0;
  // sync() in two halves, for a sync that must not stall the caller's thread: sync_job() returns the
  // work, which makes durable at least everything appended to `name` before the call when it runs and
  // succeeds; appends may go on meanwhile (a later sync covers them). A failed job is a failed sync()
  // (above). PosixDisk's job owns a duplicate descriptor and touches nothing of the disk, so it may run on
  // another thread, after the file was closed, renamed or removed; the simulated disk's runs sync() and
  // must run on the disk's own thread.
  using SyncJob = std::move_only_function<std::error_code()>;
  virtual std::expected<SyncJob, std::error_code> sync_job(std::string_view name) = 0;
  // Replaces the file atomically and durably: a crash leaves either the old or the new content.
  virtual std::error_code replace(std::string_view name, std::string_view bytes) = 0;
  // Cuts (or zero-extends) the file to `size` bytes, durably; absent is an error.
  virtual std::error_code truncate(std::string_view name, std::uint64_t size) = 0;
  // Renames durably, replacing `to` if it exists; an absent `from` is an error.
  virtual std::error_code rename(std::string_view from, std::string_view to) = 0;
  // Removes durably; an absent file is fine.
  virtual std::error_code remove(std::string_view name) = 0;
  // remove() for a file whose space is wanted back now: a removed file keeps its blocks while any
  // descriptor holds it, and a sync job under way does (sync_job() below), so on a full disk removing a
  // file may free nothing until that job ends. discard() empties the file first. A crash may then leave
  // it whole (as after remove()) or empty: for owners that read an empty file as never written (a spool
  // segment, whose header is then missing).
  virtual std::error_code discard(std::string_view name) { return remove(name); }
  // replace() and discard() as jobs, like sync_job(), for an owner that must not stall its thread on
  // their syncs (the spool deletes acknowledged segments in its group commit's job, on libuv's
  // threadpool). The job does the whole operation, durably, when it runs; discard_job() discards every
  // name in order (an absent one is fine) and then syncs the directory once. Nothing may append to,
  // replace or remove these names meanwhile. PosixDisk's jobs own duplicates of the descriptors they need
  // and touch nothing of the disk, so they may run on another thread; these defaults call replace() and
  // discard() and must run on the disk's own thread (the simulated disk, whose operations they count).
  virtual std::expected<SyncJob, std::error_code> replace_job(std::string_view name, std::string bytes) {
    if (!valid_disk_name(name)) {
      return std::unexpected(std::make_error_code(std::errc::invalid_argument));
    }
    return SyncJob(
        [this, name = std::string(name), bytes = std::move(bytes)] { return replace(name, bytes); });
  }
  virtual std::expected<SyncJob, std::error_code> discard_job(std::vector<std::string> names) {
    return SyncJob([this, names = std::move(names)] {
      std::error_code first;
      for (const auto& name : names) {
        if (auto ec = discard(name); ec && !first) {
          first = ec;
        }
      }
      return first;
    });
  }
  // The names of the regular files in the directory, sorted (byte order). Leftover "*.tmp" files and
  // files other programs put there are listed too: a caller picks the names it owns (a spool its
  // segments by prefix, say).
  virtual std::expected<std::vector<std::string>, std::error_code> list() = 0;

 protected:
  Disk(Disk&&) = default;
  Disk& operator=(Disk&&) = default;
};

}  // namespace fg::storage
