#include "quorum/wire.hpp"

#include <cstring>
#include <string>

namespace fg::quorum {
namespace {

constexpr std::size_t kTagSize = 8 + 4 + 8;
constexpr std::uint8_t kInitializedFlag = 1;
constexpr std::uint8_t kLastPageFlag = 2;

std::size_t key_size(const std::string& key) {
  return 1 + key.size();
}
std::size_t value_size(const std::string& value) {
  return 2 + value.size();
}
std::size_t entry_size(const Entry& entry) {
  return key_size(entry.key) + kTagSize + value_size(entry.versioned.value);
}

class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  template <typename T>
  void integer(T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      out_.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i)));
    }
  }
  void bytes(const std::string& text) { out_.insert(out_.end(), text.begin(), text.end()); }
  void key(const std::string& key) {
    integer(static_cast<std::uint8_t>(key.size()));
    bytes(key);
  }
  void value(const std::string& value) {
    integer(static_cast<std::uint16_t>(value.size()));
    bytes(value);
  }
  void tag(const Tag& tag) {
    integer(tag.counter);
    integer(tag.writer);
    integer(tag.epoch);
  }

 private:
  std::vector<std::uint8_t>& out_;
};

// Reads fields front to back; the first short or over-limit field makes it fail for good.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }

  template <typename T>
  T integer() {
    if (!take(sizeof(T))) {
      return 0;
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value |= static_cast<std::uint64_t>(in_[pos_ - sizeof(T) + i]) << (8 * i);
    }
    return static_cast<T>(value);
  }
  std::string text(std::size_t size, std::size_t limit) {
    if (size > limit || !take(size)) {
      ok_ = false;
      return {};
    }
    return std::string(reinterpret_cast<const char*>(in_.data() + pos_ - size), size);
  }
  std::string key() { return text(integer<std::uint8_t>(), kMaxKeySize); }
  std::string value() { return text(integer<std::uint16_t>(), kMaxValueSize); }
  Tag tag() {
    Tag tag;
    tag.counter = integer<std::uint64_t>();
    tag.writer = integer<std::uint32_t>();
    tag.epoch = integer<std::uint64_t>();
    return tag;
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

bool decode_one(Reader& in, Message& m) {
  auto type = in.integer<std::uint8_t>();
  m.type = static_cast<MessageType>(type);
  switch (m.type) {
    case MessageType::query_tag:
    case MessageType::query_value:
    case MessageType::sync_request:
      m.request = in.integer<std::uint64_t>();
      m.key = in.key();
      return true;
    case MessageType::tag_reply:
      m.request = in.integer<std::uint64_t>();
      m.request_epoch = in.integer<std::uint64_t>();
      m.key = in.key();
      m.versioned.tag = in.tag();
      return true;
    case MessageType::value_reply:
      m.request = in.integer<std::uint64_t>();
      m.request_epoch = in.integer<std::uint64_t>();
      m.key = in.key();
      m.versioned.tag = in.tag();
      m.versioned.value = in.value();
      return true;
    case MessageType::store:
      m.request = in.integer<std::uint64_t>();
      m.key = in.key();
      m.versioned.tag = in.tag();
      m.versioned.value = in.value();
      return true;
    case MessageType::store_ack:
      m.request = in.integer<std::uint64_t>();
      m.request_epoch = in.integer<std::uint64_t>();
      m.key = in.key();
      return true;
    case MessageType::ping:
    case MessageType::pong: {
      m.nonce = in.integer<std::uint64_t>();
      auto state = in.integer<std::uint8_t>();
      if (state < static_cast<std::uint8_t>(ReplicaState::restoring) ||
          state > static_cast<std::uint8_t>(ReplicaState::failed)) {
        return false;
      }
      m.state = static_cast<ReplicaState>(state);
      return true;
    }
    case MessageType::sync_reply: {
      m.request = in.integer<std::uint64_t>();
      m.request_epoch = in.integer<std::uint64_t>();
      auto flags = in.integer<std::uint8_t>();
      if ((flags & ~(kInitializedFlag | kLastPageFlag)) != 0) {
        return false;
      }
      m.initialized = (flags & kInitializedFlag) != 0;
      m.last_page = (flags & kLastPageFlag) != 0;
      auto count = in.integer<std::uint16_t>();
      for (std::uint16_t i = 0; i < count && in.ok(); ++i) {
        Entry entry;
        entry.key = in.key();
        entry.versioned.tag = in.tag();
        entry.versioned.value = in.value();
        m.entries.push_back(std::move(entry));
      }
      return true;
    }
  }
  return false;  // an unknown type
}

}  // namespace

std::size_t encoded_size(const Message& m) {
  switch (m.type) {
    case MessageType::query_tag:
    case MessageType::query_value:
    case MessageType::sync_request:
      return 1 + 8 + key_size(m.key);
    case MessageType::tag_reply:
      return 1 + 16 + key_size(m.key) + kTagSize;
    case MessageType::value_reply:
      return 1 + 16 + key_size(m.key) + kTagSize + value_size(m.versioned.value);
    case MessageType::store:
      return 1 + 8 + key_size(m.key) + kTagSize + value_size(m.versioned.value);
    case MessageType::store_ack:
      return 1 + 16 + key_size(m.key);
    case MessageType::ping:
    case MessageType::pong:
      return 1 + 8 + 1;
    case MessageType::sync_reply: {
      std::size_t size = 1 + 16 + 1 + 2;
      for (const auto& entry : m.entries) {
        size += entry_size(entry);
      }
      return size;
    }
  }
  return 0;
}

void encode(const Message& m, std::vector<std::uint8_t>& payload) {
  Writer out(payload);
  if (payload.empty()) {
    out.integer(kWireVersion);
  }
  out.integer(static_cast<std::uint8_t>(m.type));
  switch (m.type) {
    case MessageType::query_tag:
    case MessageType::query_value:
    case MessageType::sync_request:
      out.integer(m.request);
      out.key(m.key);
      break;
    case MessageType::tag_reply:
      out.integer(m.request);
      out.integer(m.request_epoch);
      out.key(m.key);
      out.tag(m.versioned.tag);
      break;
    case MessageType::value_reply:
      out.integer(m.request);
      out.integer(m.request_epoch);
      out.key(m.key);
      out.tag(m.versioned.tag);
      out.value(m.versioned.value);
      break;
    case MessageType::store:
      out.integer(m.request);
      out.key(m.key);
      out.tag(m.versioned.tag);
      out.value(m.versioned.value);
      break;
    case MessageType::store_ack:
      out.integer(m.request);
      out.integer(m.request_epoch);
      out.key(m.key);
      break;
    case MessageType::ping:
    case MessageType::pong:
      out.integer(m.nonce);
      out.integer(static_cast<std::uint8_t>(m.state));
      break;
    case MessageType::sync_reply:
      out.integer(m.request);
      out.integer(m.request_epoch);
      out.integer(static_cast<std::uint8_t>((m.initialized ? kInitializedFlag : 0) |
                                            (m.last_page ? kLastPageFlag : 0)));
      out.integer(static_cast<std::uint16_t>(m.entries.size()));
      for (const auto& entry : m.entries) {
        out.key(entry.key);
        out.tag(entry.versioned.tag);
        out.value(entry.versioned.value);
      }
      break;
  }
}

std::optional<std::vector<Message>> decode(std::span<const std::uint8_t> payload) {
  Reader in(payload);
  if (in.integer<std::uint8_t>() != kWireVersion || !in.ok() || in.at_end()) {
    return std::nullopt;
  }
  std::vector<Message> messages;
  while (!in.at_end()) {
    Message m;
    if (!decode_one(in, m) || !in.ok()) {
      return std::nullopt;
    }
    messages.push_back(std::move(m));
  }
  return messages;
}

}  // namespace fg::quorum
