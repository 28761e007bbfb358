#include "gateway/seq_checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "storage/error.hpp"
#include "storage/little_endian.hpp"
#include "storage/record_file.hpp"
#include "storage/record_format.hpp"

namespace fg::gateway {
namespace {

constexpr std::string_view kMagic = "FGSEQCK\n";
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kMaxRecord = 64 * 1024;

using storage::get_u64;
using storage::put_u64;

}  // namespace

namespace {

// Merges the file `name` into `state`; an absent file adds nothing.
std::error_code read_into(storage::Disk& disk, std::string_view name, SeqState& state) {
  auto bytes = disk.read(name);
  if (!bytes) {
    return bytes.error() == std::errc::no_such_file_or_directory ? std::error_code() : bytes.error();
  }
  auto header = storage::record_format::check_header(kMagic, kVersion, *bytes);
  if (header.status != storage::record_format::HeaderStatus::ok) {
    return storage::record_format::header_error(header.status);
  }
  bool bad = false;
  auto scan =
      storage::record_format::scan_records(*bytes, kMaxRecord, [&](std::string_view record, std::uint64_t) {
        if (record.size() == 9 && record[0] == 'E') {
          state.epoch = std::max(state.epoch, get_u64(record.substr(1)));
        } else if (record.size() > 9 && record[0] == 'S') {
          auto& seq = state.seq[std::string(record.substr(9))];
          seq = std::max(seq, get_u64(record.substr(1)));
        } else {
          bad = true;
        }
      });
  // Written whole by replace(): anything but a clean end is damage, not a crash of ours.
  if (bad || scan.tail != storage::Tail::clean) {
    return make_error_code(storage::StorageError::damaged_tail);
  }
  return {};
}

std::string encode(const SeqState& state) {
  std::string out = storage::record_format::encode_header(kMagic, kVersion);
  std::string epoch(1, 'E');
  put_u64(epoch, state.epoch);
  storage::record_format::append_record(out, epoch);
  for (const auto& [topic, seq] : state.seq) {
    std::string record;
    record.reserve(9 + topic.size());
    record.push_back('S');
    put_u64(record, seq);
    record.append(topic);
    storage::record_format::append_record(out, record);
  }
  return out;
}

}  // namespace

std::expected<SeqState, std::error_code> read_seq_checkpoint(storage::Disk& disk) {
  SeqState state;
  for (auto name : {kSeqCheckpointName, kSeqCommitCheckpointName}) {
    if (auto ec = read_into(disk, name, state)) {
      return std::unexpected(ec);
    }
  }
  return state;
}

std::error_code write_seq_checkpoint(storage::Disk& disk, const SeqState& state) {
  return disk.replace(kSeqCheckpointName, encode(state));
}

std::expected<storage::Disk::SyncJob, std::error_code> seq_checkpoint_job(storage::Disk& disk,
                                                                          const SeqState& state) {
  return disk.replace_job(kSeqCommitCheckpointName, encode(state));
}

std::uint64_t payload_seq(std::string_view payload) {
  if (payload.empty() || payload.front() != '{') {
    return 0;
  }
  auto json = nlohmann::json::parse(payload, nullptr, false);
  if (!json.is_object()) {
    return 0;
  }
  auto seq = json.find("seq");
  return seq != json.end() && seq->is_number_unsigned() ? seq->get<std::uint64_t>() : 0;
}

}  // namespace fg::gateway
