#pragma once
// SimDisk: an in-memory storage::Disk whose crash() models a power loss, for the deterministic
// simulations (the quorum register's in tests/sim, the MQTT spool's) and for crash tests of durable state.
//
// Each file has a durable part (what survives any crash) and a pending part (appended since the last
// sync). read() sees both, as the page cache does. crash() loses every file's pending bytes except a
// random prefix of them, cut anywhere (a record may be torn in the middle); a file created by append()
// and never synced may vanish altogether. replace(), truncate(), rename() and remove() are durable at
// once, as the Disk contract says. Given the same operations and the same rng state, a crash always has
// the same outcome.
//
// Known limits: a crash keeps a prefix of the unsynced bytes, never a later part without an earlier one
// (a real disk may write pages out of order) and never garbles bytes it keeps; damage of that kind is
// made explicitly with put_durable().

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/disk.hpp"

namespace fg::test {

class SimDisk final : public storage::Disk {
 public:
  SimDisk() = default;

  std::expected<std::string, std::error_code> read(std::string_view name) override;
  std::error_code append(std::string_view name, std::string_view bytes) override;
  std::error_code sync(std::string_view name) override;
  // Runs sync(name) when called (on the disk's thread): it makes durable what is appended by then.
  std::expected<SyncJob, std::error_code> sync_job(std::string_view name) override;
  std::error_code replace(std::string_view name, std::string_view bytes) override;
  std::error_code truncate(std::string_view name, std::uint64_t size) override;
  std::error_code rename(std::string_view from, std::string_view to) override;
  std::error_code remove(std::string_view name) override;
  std::expected<std::vector<std::string>, std::error_code> list() override;

  // Power loss: see above. Also ends a halt_after() and a pending fail_next().
  void crash(std::mt19937_64& rng);

  // The process dies after `ops` more operations (reads included): every later call fails with
  // std::errc::io_error and changes nothing, until crash(). Lets a test stop a sequence at each step.
  void halt_after(std::size_t ops) noexcept { ops_before_halt_ = ops; }
  bool halted() const noexcept { return ops_before_halt_ && *ops_before_halt_ == 0; }

  // The next append() writes only its first `written` bytes (if that many) and then fails with `error`,
  // as write(2) does on ENOSPC after a short write; the next other operation just fails with `error`.
  void fail_next(std::error_code error, std::size_t written = 0) { fail_ = Failure{error, written}; }

  // A full disk: the files may hold `bytes` in all (durable and pending). An append() beyond it writes what
  // still fits and fails with std::errc::no_space_on_device, as write(2) does; a replace() beyond it fails
  // and changes nothing. nullopt (the default) is unlimited. truncate() and remove() free space.
  void set_capacity(std::optional<std::uint64_t> bytes) noexcept { capacity_ = bytes; }
  std::uint64_t used_bytes() const noexcept;

  // Test hooks: put bytes into a file durably (the way another program or bit rot would), and look at
  // the two parts of a file.
  void put_durable(std::string_view name, std::string_view bytes);
  std::optional<std::string> durable(std::string_view name) const;
  std::optional<std::string> pending(std::string_view name) const;
  std::vector<std::string> names() const;

  // Counters, for group-commit and cost checks. sync_calls() counts calls of sync(); durable_ops()
  // counts replace, truncate, rename and remove, each of which costs at least one fsync on a real disk.
  std::uint64_t sync_calls() const noexcept { return sync_calls_; }
  std::uint64_t durable_ops() const noexcept { return durable_ops_; }
  std::uint64_t appended_bytes() const noexcept { return appended_bytes_; }
  std::uint64_t crashes() const noexcept { return crashes_; }

 private:
  struct File {
    std::string durable;
    std::string pending;
    // False while the file was created by append() and not yet synced: its name is not durable either.
    bool name_durable = false;
  };
  struct Failure {
    std::error_code error;
    std::size_t written = 0;
  };

  // Counts one operation; an error if the disk is halted or a failure was injected.
  std::error_code enter();
  // Every operation starts here: its names are checked and a halt (halt_after) is honoured.
  std::error_code start(std::initializer_list<std::string_view> names);
  // The failure fail_next() injected, once; success if none.
  std::error_code take_failure();

  std::map<std::string, File, std::less<>> files_;
  std::optional<std::size_t> ops_before_halt_;
  std::optional<Failure> fail_;
  std::optional<std::uint64_t> capacity_;
  std::uint64_t sync_calls_ = 0;
  std::uint64_t durable_ops_ = 0;
  std::uint64_t appended_bytes_ = 0;
  std::uint64_t crashes_ = 0;
};

}  // namespace fg::test
