#include "tests/storage/sim_disk.hpp"

#include <algorithm>
#include <utility>

namespace fg::test {
namespace {

std::error_code invalid_name() {
  return std::make_error_code(std::errc::invalid_argument);
}
std::error_code absent() {
  return std::make_error_code(std::errc::no_such_file_or_directory);
}
std::error_code no_space() {
  return std::make_error_code(std::errc::no_space_on_device);
}

}  // namespace

std::error_code SimDisk::start(std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (!storage::valid_disk_name(name)) {
      return invalid_name();
    }
  }
  return enter();
}

std::error_code SimDisk::take_failure() {
  return fail_ ? std::exchange(fail_, std::nullopt)->error : std::error_code();
}

std::error_code SimDisk::enter() {
  if (ops_before_halt_) {
    if (*ops_before_halt_ == 0) {
      return std::make_error_code(std::errc::io_error);
    }
    --*ops_before_halt_;
  }
  return {};
}

std::expected<std::string, std::error_code> SimDisk::read(std::string_view name) {
  if (std::error_code ec = start({name}); ec || (ec = take_failure())) {
    return std::unexpected(ec);
  }
  auto it = files_.find(name);
  if (it == files_.end()) {
    return std::unexpected(absent());
  }
  return it->second.durable + it->second.pending;
}

std::error_code SimDisk::append(std::string_view name, std::string_view bytes) {
  if (std::error_code ec = start({name})) {
    return ec;
  }
  std::optional<Failure> failure = std::exchange(fail_, std::nullopt);
  if (failure) {
    bytes = bytes.substr(0, std::min(bytes.size(), failure->written));
  }
  if (std::uint64_t used = used_bytes(); !failure && capacity_ && used + bytes.size() > *capacity_) {
    failure = Failure{no_space(), 0};
    bytes = bytes.substr(0, static_cast<std::size_t>(*capacity_ > used ? *capacity_ - used : 0));
  }
  File& file = files_[std::string(name)];  // Creates it, with a name that is not durable yet.
  file.pending.append(bytes);
  appended_bytes_ += bytes.size();
  return failure ? failure->error : std::error_code();
}

std::error_code SimDisk::sync(std::string_view name) {
  if (std::error_code ec = start({name})) {
    return ec;
  }
  ++sync_calls_;
  // A failed fdatasync promises nothing: the pending bytes stay pending (a crash decides their fate).
  if (std::error_code ec = take_failure()) {
    return ec;
  }
  auto it = files_.find(name);
  if (it == files_.end()) {
    return absent();
  }
  File& file = it->second;
  file.durable.append(file.pending);
  file.pending.clear();
  file.name_durable = true;
  return {};
}

std::expected<storage::Disk::SyncJob, std::error_code> SimDisk::sync_job(std::string_view name) {
  if (!storage::valid_disk_name(name)) {
    return std::unexpected(invalid_name());
  }
  return SyncJob([this, name = std::string(name)] { return sync(name); });
}

std::error_code SimDisk::replace(std::string_view name, std::string_view bytes) {
  if (std::error_code ec = start({name}); ec || (ec = take_failure())) {
    return ec;
  }
  if (capacity_) {
    auto it = files_.find(name);
    std::uint64_t freed = it == files_.end() ? 0 : it->second.durable.size() + it->second.pending.size();
    if (used_bytes() - freed + bytes.size() > *capacity_) {
      return no_space();
    }
  }
  ++durable_ops_;
  files_[std::string(name)] = File{std::string(bytes), {}, true};
  return {};
}

std::error_code SimDisk::truncate(std::string_view name, std::uint64_t size) {
  if (std::error_code ec = start({name}); ec || (ec = take_failure())) {
    return ec;
  }
  auto it = files_.find(name);
  if (it == files_.end()) {
    return absent();
  }
  ++durable_ops_;
  // PosixDisk fsyncs after ftruncate, which makes the bytes that remain durable too.
  File& file = it->second;
  file.durable.append(file.pending);
  file.pending.clear();
  file.durable.resize(static_cast<std::size_t>(size), '\0');
  file.name_durable = true;
  return {};
}

std::error_code SimDisk::rename(std::string_view from, std::string_view to) {
  if (std::error_code ec = start({from, to}); ec || (ec = take_failure())) {
    return ec;
  }
  auto it = files_.find(from);
  if (it == files_.end()) {
    return absent();
  }
  ++durable_ops_;
  if (from == to) {
    return {};
  }
  // The new name is durable; unsynced content stays unsynced, as it does in the renamed inode.
  File file = std::move(it->second);
  file.name_durable = true;
  files_.erase(it);
  files_[std::string(to)] = std::move(file);
  return {};
}

std::error_code SimDisk::remove(std::string_view name) {
  if (std::error_code ec = start({name}); ec || (ec = take_failure())) {
    return ec;
  }
  ++durable_ops_;
  if (auto it = files_.find(name); it != files_.end()) {
    files_.erase(it);
  }
  return {};
}

std::expected<std::vector<std::string>, std::error_code> SimDisk::list() {
  if (std::error_code ec = enter(); ec || (ec = take_failure())) {
    return std::unexpected(ec);
  }
  return names();
}

std::uint64_t SimDisk::used_bytes() const noexcept {
  std::uint64_t used = 0;
  for (const auto& [name, file] : files_) {
    used += file.durable.size() + file.pending.size();
  }
  return used;
}

void SimDisk::crash(std::mt19937_64& rng) {
  ++crashes_;
  ops_before_halt_.reset();
  fail_.reset();
  for (auto it = files_.begin(); it != files_.end();) {
    File& file = it->second;
    if (!file.pending.empty()) {
      // Lose all, keep all, or keep a random prefix, a third each: the extremes are the common cases
      // of a real power loss, and a uniform cut alone would rarely produce them.
      std::size_t keep = 0;
      switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
        case 0:
          keep = 0;
          break;
        case 1:
          keep = file.pending.size();
          break;
        default:
          keep = std::uniform_int_distribution<std::size_t>(0, file.pending.size())(rng);
          break;
      }
      file.durable.append(file.pending, 0, keep);
      file.pending.clear();
    }
    if (!file.name_durable) {
      // A name never synced may or may not have reached the disk.
      if (std::bernoulli_distribution(0.5)(rng)) {
        it = files_.erase(it);
        continue;
      }
      file.name_durable = true;
    }
    ++it;
  }
}

void SimDisk::put_durable(std::string_view name, std::string_view bytes) {
  files_[std::string(name)] = File{std::string(bytes), {}, true};
}

std::optional<std::string> SimDisk::durable(std::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? std::nullopt : std::optional<std::string>(it->second.durable);
}

std::optional<std::string> SimDisk::pending(std::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? std::nullopt : std::optional<std::string>(it->second.pending);
}

std::vector<std::string> SimDisk::names() const {
  std::vector<std::string> out;
  for (const auto& [name, file] : files_) {
    out.push_back(name);
  }
  return out;
}

}  // namespace fg::test
