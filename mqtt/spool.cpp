#include "mqtt/spool.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "storage/error.hpp"
#include "storage/little_endian.hpp"
#include "storage/record_format.hpp"

namespace fg::mqtt {
namespace {

constexpr storage::FileFormat kSegmentFormat{.magic = "FGSPOOL\n", .version = 1, .max_payload = 1024 * 1024};
constexpr std::string_view kPrefix = "seg-";
constexpr std::size_t kIdDigits = 16;
constexpr char kMessage = 'M';
constexpr char kAck = 'A';
// A message record: kind, seq u64, QoS u8, retain u8, topic length u32, topic, payload.
constexpr std::size_t kMessageFixed = 1 + 8 + 1 + 1 + 4;

using storage::get_u32;
using storage::get_u64;
using storage::put_u32;
using storage::put_u64;

std::string encode_message(std::uint64_t seq, const Publication& m) {
  std::string out;
  out.reserve(kMessageFixed + m.topic.size() + m.payload.size());
  out.push_back(kMessage);
  put_u64(out, seq);
  out.push_back(static_cast<char>(m.qos));
  out.push_back(m.retain ? 1 : 0);
  put_u32(out, static_cast<std::uint32_t>(m.topic.size()));
  out += m.topic;
  out += m.payload;
  return out;
}

std::string encode_ack(std::uint64_t seq) {
  std::string out(1, kAck);
  put_u64(out, seq);
  return out;
}

// A record this build did not write (an intact CRC over a kind or length it does not know) is skipped:
// nothing in it can be trusted to be a message.
struct Decoded {
  char kind = 0;
  std::uint64_t seq = 0;
  std::optional<Publication> message;
};
Decoded decode(std::string_view record, bool with_body) {
  Decoded d;
  if (record.size() == 9 && record[0] == kAck) {
    d.kind = kAck;
    d.seq = get_u64(record.substr(1));
  } else if (record.size() >= kMessageFixed && record[0] == kMessage) {
    std::uint32_t topic_len = get_u32(record.substr(11));
    auto qos = static_cast<unsigned char>(record[9]);
    if (topic_len > record.size() - kMessageFixed || qos > 2) {
      return d;
    }
    d.kind = kMessage;
    d.seq = get_u64(record.substr(1));
    if (with_body) {
      d.message = Publication{std::string(record.substr(kMessageFixed, topic_len)),
                              std::string(record.substr(kMessageFixed + topic_len)), static_cast<Qos>(qos),
                              record[10] != 0};
    }
  }
  return d;
}

std::optional<std::uint64_t> segment_id(std::string_view name) {
  if (name.size() != kPrefix.size() + kIdDigits || !name.starts_with(kPrefix)) {
    return std::nullopt;
  }
  std::uint64_t id = 0;
  for (char c : name.substr(kPrefix.size())) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) {
      return std::nullopt;
    }
    id = id * 16 + static_cast<std::uint64_t>(digit);
  }
  return id;
}

std::string segment_name(std::uint64_t id) {
  char text[kIdDigits + 1];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return std::string(kPrefix) + text;
}

}  // namespace

std::expected<Spool, std::error_code> Spool::open(storage::Disk& disk, SpoolOptions options, LogCallback log,
                                                  SpoolHooks hooks) {
  Spool spool(disk, options, std::move(log), std::move(hooks));
  if (auto ec = spool.recover()) {
    return std::unexpected(ec);
  }
  if (auto ec = spool.start_segment()) {
    // Not fatal: push() tries again, and drops (counted, logged) while the disk refuses.
    spool.log("spool: cannot start a segment: " + ec.message());
  }
  return spool;
}

// ---- recovery -------------------------------------------------------------------------------------

std::error_code Spool::recover() {
  auto names = disk_->list();
  if (!names) {
    return names.error();
  }
  struct Found {
    Segment segment;
    std::vector<std::uint64_t> seqs;
  };
  std::vector<Found> found;
  std::unordered_set<std::uint64_t> acked;
  std::uint64_t last_id = 0;
  std::uint64_t max_seq = 0;
  for (const auto& name : *names) {  // sorted: segment ids in order
    auto id = segment_id(name);
    if (!id) {
      continue;
    }
    last_id = std::max(last_id, *id);
    Found f;
    std::vector<std::uint64_t> acks;
    auto opened = storage::RecordFile::open(*disk_, name, kSegmentFormat, [&](std::string_view record, auto) {
      auto d = decode(record, static_cast<bool>(hooks_.recovered));
      if (d.kind == kMessage && d.message) {
        hooks_.recovered(*d.message);
      }
      if (d.kind != 0) {
        (d.kind == kMessage ? f.seqs : acks).push_back(d.seq);
      }
    });
    if (!opened && opened.error() == std::errc::no_such_file_or_directory) {
      continue;
    }
    if (!opened && opened.error() == storage::StorageError::torn_header) {
      // A crash before the first sync of a segment just started (start_segment): nothing of it was
      // promised, and nothing else writes a segment's header.
      (void)disk_->remove(name);
      continue;
    }
    if (!opened && !storage::is_damaged_header(opened.error()) &&
        opened.error() != storage::StorageError::older_format) {
      return opened.error();  // a newer build's spool (left alone), or the disk failing to read
    }
    bool corrupt = !opened || opened->scan.tail == storage::Tail::corrupt;
    if (corrupt) {
      // Damage no crash of ours explains: set the whole segment aside for a human, count what it held.
      ++counters_.corrupt_segments;
      (void)disk_->rename(name, name + ".corrupt");
      log("spool: segment " + name + " is damaged (" +
          (opened ? std::string(storage::record_format::describe(opened->scan.tail))
                  : opened.error().message()) +
          "); set aside as " + name + ".corrupt");
      // Not a drop episode (nothing is full): counted, and the line above says why.
      counters_.dropped += f.seqs.size();
      for (auto seq : f.seqs) {
        max_seq = std::max(max_seq, seq);  // never reuse its seqs, in case it is put back by hand
      }
      continue;
    }
    if (opened->scan.tail == storage::Tail::torn) {
      (void)opened->file.cut_tail();  // a crash while appending; a failed cut is harmless (not appended to)
    }
    for (auto seq : acks) {
      acked.insert(seq);
      max_seq = std::max(max_seq, seq);
    }
    f.segment.id = *id;
    f.segment.name = name;
    f.segment.bytes = opened->file.size();
    if (!f.seqs.empty()) {
      f.segment.first_seq = f.seqs.front();
      f.segment.end_seq = f.seqs.back() + 1;
      max_seq = std::max(max_seq, f.seqs.back());
    }
    found.push_back(std::move(f));
  }
  next_seq_ = max_seq + 1;
  next_id_ = last_id + 1;
  window_end_ = next_seq_;
  for (auto& f : found) {
    for (auto seq : f.seqs) {
      if (!acked.contains(seq)) {
        ++f.segment.unacked;
        window_end_ = std::min(window_end_, seq);
      }
    }
    unsent_ += f.segment.unacked;
    segments_.push_back(std::move(f.segment));
  }
  // Leading segments with everything acknowledged go (their acknowledgement records name only their own
  // or older messages); a later one may hold the acknowledgements of an older segment that stays.
  while (!segments_.empty() && segments_.front().unacked == 0) {
    remove_segment(segments_.front().name);
    ++counters_.segments_deleted;
    segments_.pop_front();
  }
  for (auto seq : acked) {
    if (seq >= window_end_) {
      acked_ahead_.insert(seq);
    }
  }
  counters_.recovered = unsent_;
  if (unsent_ > 0) {
    log("spool: " + std::to_string(unsent_) +
        " messages not acknowledged before the restart will be sent again");
  }
  return {};
}

// ---- segments -------------------------------------------------------------------------------------

std::error_code Spool::start_segment() {
  if (tail_ && tail_->pending()) {
    // The old segment's records become durable with the next sync, like the new one's.
    if (auto job = tail_->sync_job(); job && *job) {
      finished_unsynced_.emplace_back(tail_->name(), std::move(*job));
    } else if (!job) {
      ++counters_.write_errors;
    }
  }
  tail_.reset();
  Segment segment;
  segment.id = next_id_++;
  segment.name = segment_name(segment.id);
  // Not synced here: the header and the directory entry become durable with the next group commit, off
  // the loop thread (recover() takes a segment whose header a crash cut short for one never created).
  auto file = storage::RecordFile::create_unsynced(*disk_, segment.name, kSegmentFormat);
  if (!file) {
    ++counters_.write_errors;
    return file.error();
  }
  segment.bytes = file->size();
  tail_.emplace(std::move(*file));
  segments_.push_back(std::move(segment));
  return {};
}

bool Spool::start_segment_making_room(bool is_message) {
  std::error_code ec = start_segment();
  if (ec != std::errc::no_space_on_device) {
    return !ec;
  }
  note_disk_full();
  // A full disk behaves like a full spool (as in append()): for a message, the oldest segment gives up
  // its space to the new one.
  if (is_message && holds_messages() && drop_oldest_segment()) {
    ec = tail_ ? std::error_code() : start_segment();  // dropping the only segment starts the next
  }
  return !ec;
}

bool Spool::holds_messages() const noexcept {
  return !retired_.empty() ||
         std::any_of(segments_.begin(), segments_.end(), [](const Segment& s) { return s.first_seq != 0; });
}

void Spool::remove_segment(const std::string& name) {
  if (hooks_.before_delete) {
    hooks_.before_delete();
  }
  std::erase_if(finished_unsynced_, [&](const auto& job) { return job.first == name; });
  // discard, not remove: a sync job under way holds the file open, and on a full disk its space is
  // what the next append needs (a crash may leave the file empty: recover() removes a headerless one).
  (void)disk_->discard(name);
}

Spool::Segment* Spool::segment_of(std::uint64_t seq) {
  for (auto& s : segments_) {
    if (s.first_seq != 0 && seq >= s.first_seq && seq < s.end_seq) {
      return &s;
    }
  }
  return nullptr;
}

bool Spool::drop_oldest_segment() {
  if (delete_retired_now()) {
    return true;  // room without a loss: their messages were all acknowledged
  }
  if (segments_.empty()) {
    return false;
  }
  // The segment being written may be the oldest. It goes before its successor is made, so that on a
  // full disk the successor gets its space; if the successor still cannot be made, the next append
  // tries again.
  const bool dropping_the_tail = segments_.size() == 1;
  if (dropping_the_tail) {
    tail_.reset();  // its unsynced records go with the file
  }
  Segment old = std::move(segments_.front());
  segments_.pop_front();
  remove_segment(old.name);
  ++counters_.segments_deleted;
  if (dropping_the_tail) {
    (void)start_segment();  // counted in write_errors if it fails
  }
  if (old.first_seq == 0) {
    return true;
  }
  std::uint64_t sent_in_it = 0;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second < old.end_seq) {
      ++sent_in_it;
      it = in_flight_.erase(it);
    } else {
      ++it;
    }
  }
  while (!window_.empty() && window_.front().seq < old.end_seq) {
    window_.pop_front();
  }
  window_end_ = std::max(window_end_, old.end_seq);
  unsent_ -= std::min(unsent_, old.unacked - std::min(old.unacked, sent_in_it));
  dropped(old.unacked);
  return true;
}

void Spool::dropped(std::uint64_t n) {
  if (n == 0) {
    return;
  }
  counters_.dropped += n;
  if (episode_drops_ == 0) {
    log(std::string(disk_full() ? "spool: the disk is full (" : "spool: full (") + std::to_string(bytes()) +
        " bytes); dropping the oldest messages");
  }
  episode_drops_ += n;
}

void Spool::episode_over() {
  // The episode lasts until the spool has drained to half of what it could hold (spool_max, or what the
  // disk took), or holds nothing unacknowledged (the segment being written may alone be half of it): a
  // spool that stays full, freeing a segment's worth now and then, logs one episode, not one per segment.
  if (episode_drops_ == 0) {
    room_ = options_.max_bytes;
    return;
  }
  if (bytes() <= room_ / 2 || unacknowledged() == 0) {
    log("spool: room again; " + std::to_string(episode_drops_) + " messages were dropped");
    episode_drops_ = 0;
    room_ = options_.max_bytes;
  }
}

void Spool::note_disk_full() noexcept {
  room_ = std::min(room_, bytes());
}

bool Spool::disk_full() const noexcept {
  return room_ < options_.max_bytes;
}

bool Spool::append(const std::string& record, bool is_message) {
  const std::uint64_t need = record.size() + storage::record_format::kRecordOverhead;
  if (!tail_ || tail_->failed() ||
      (is_message && tail_->record_bytes() > 0 && tail_->size() + need > options_.segment_bytes)) {
    if (!start_segment_making_room(is_message)) {
      return false;
    }
  }
  // Acknowledgements never push messages out: they are small, and they are what frees segments.
  while (is_message && bytes() + need > options_.max_bytes) {
    if (segments_.size() == 1 && segments_.front().first_seq == 0) {
      return false;  // nothing left to drop: the message alone is too big for the cap
    }
    if (!drop_oldest_segment()) {
      return false;  // nothing left to drop
    }
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!tail_ && !start_segment_making_room(is_message)) {
      return false;
    }
    auto ec = tail_->append(record);
    if (!ec) {
      segments_.back().bytes = tail_->size();
      if (hooks_.appended) {
        hooks_.appended();
      }
      return true;
    }
    ++counters_.write_errors;
    if (ec == std::errc::no_space_on_device) {
      note_disk_full();
    }
    // A full disk behaves like a full spool: the oldest segment makes room, even when it is the one
    // being written. At most one segment per message: a disk filled by others takes no more of ours.
    if (!is_message || ec != std::errc::no_space_on_device || !holds_messages() || !drop_oldest_segment()) {
      return false;
    }
  }
  return false;
}

// ---- PublishQueue -----------------------------------------------------------------------------------

std::size_t Spool::push(Publication message) {
  const std::uint64_t seq = next_seq_;
  const std::uint64_t drops_before = counters_.dropped;
  if (!append(encode_message(seq, message), true)) {
    dropped(1);
    return 1;
  }
  if (counters_.dropped == drops_before) {
    episode_over();  // this one found room without dropping anything
  }
  ++next_seq_;
  ++counters_.appended;
  auto& tail = segments_.back();
  if (tail.first_seq == 0) {
    tail.first_seq = seq;
  }
  tail.end_seq = seq + 1;
  ++tail.unacked;
  ++unsent_;
  if (options_.sync_every_push) {
    (void)sync();  // a failure is counted; the message still goes out (the caller asked for it)
  }
  // Read ahead only while the window covers everything so far; otherwise the message waits on disk.
  if (window_end_ == seq && window_.size() < options_.window_messages) {
    window_.push_back({seq, std::move(message)});
    window_end_ = seq + 1;
  }
  return 0;
}

void Spool::fill_window() const {
  if (!window_.empty() || unsent_ == 0) {
    return;
  }
  for (const auto& segment : segments_) {
    if (segment.first_seq == 0 || segment.end_seq <= window_end_) {
      continue;
    }
    auto bytes = disk_->read(segment.name);
    if (!bytes) {
      continue;  // counted when the segment is dropped; nothing better to do from a const read
    }
    storage::record_format::scan_records(
        *bytes, kSegmentFormat.max_payload, [&](std::string_view record, auto) {
          if (window_.size() >= options_.window_messages) {
            return;
          }
          auto d = decode(record, true);
          if (d.kind == kMessage && d.seq >= window_end_ && !acked_ahead_.contains(d.seq)) {
            window_.push_back({d.seq, std::move(*d.message)});
          }
        });
    if (!window_.empty()) {
      window_end_ = window_.size() >= options_.window_messages ? window_.back().seq + 1 : segment.end_seq;
      return;
    }
    window_end_ = segment.end_seq;
  }
}

const Publication* Spool::front() const {
  fill_window();
  return window_.empty() ? nullptr : &window_.front().message;
}

void Spool::sent(int mid) {
  fill_window();
  if (window_.empty()) {
    return;
  }
  const std::uint64_t seq = window_.front().seq;
  window_.pop_front();
  --unsent_;
  if (mid != 0) {
    in_flight_[mid] = seq;
  } else {
    done(seq);  // nothing will acknowledge it (QoS 0, or refused)
  }
}

void Spool::track(const Publication& message, int mid) {
  if (push(message) == 0) {
    sent(mid);
  }
}

void Spool::acknowledged(int mid) {
  auto it = in_flight_.find(mid);
  if (it == in_flight_.end()) {
    return;
  }
  const std::uint64_t seq = it->second;
  in_flight_.erase(it);
  done(seq);
}

void Spool::done(std::uint64_t seq) {
  if (append(encode_ack(seq), false)) {
    ++counters_.acknowledged;
  }
  // Even if the acknowledgement could not be written, the message is done for this process; a restart
  // would send it again (a duplicate, never a loss).
  if (auto* segment = segment_of(seq); segment != nullptr && segment->unacked > 0) {
    --segment->unacked;
  }
  delete_acknowledged_segments();
}

QosCounts Spool::discard() {
  // Nothing is given up: what waits stays on disk for the next start. Make it durable.
  (void)sync();
  return {};
}

std::uint64_t Spool::oldest_unacknowledged() const {
  std::uint64_t oldest = 0;
  for (const auto& [mid, seq] : in_flight_) {
    oldest = oldest == 0 ? seq : std::min(oldest, seq);
  }
  if (unsent_ > 0) {
    std::uint64_t first_unsent = window_.empty() ? window_end_ : window_.front().seq;
    oldest = oldest == 0 ? first_unsent : std::min(oldest, first_unsent);
  }
  return oldest;
}

std::uint64_t Spool::unacknowledged() const noexcept {
  std::uint64_t n = 0;
  for (const auto& s : segments_) {
    n += s.unacked;
  }
  return n;
}

std::uint64_t Spool::bytes() const noexcept {
  std::uint64_t n = 0;
  for (const auto* list : {&segments_, &retired_}) {
    for (const auto& s : *list) {
      n += s.bytes;
    }
  }
  return n;
}

}  // namespace fg::mqtt
