#include "quorum/wire.hpp"

#include <gtest/gtest.h>

#include <random>

namespace fg::quorum {
namespace {

Message sample(MessageType type) {
  Message m;
  m.type = type;
  m.request = 0x0102030405060708ull;
  m.request_epoch = is_reply(type) ? 77 : 0;
  switch (type) {
    case MessageType::ping:
    case MessageType::pong:
      m.request = 0;
      m.nonce = 123456;
      m.state = ReplicaState::restoring;
      break;
    case MessageType::sync_reply:
      m.initialized = true;
      m.last_page = false;
      m.entries = {{"a/b/c", {{3, 2, 9}, "21.5"}}, {"x", {{1, 1, 1}, std::string("\0bin\xff", 5)}}};
      break;
    case MessageType::tag_reply:
      m.key = "gw/dev/t";
      m.versioned.tag = {5, 3, 11};
      break;
    case MessageType::value_reply:
    case MessageType::store:
      m.key = "gw/dev/t";
      m.versioned = {{5, 3, 11}, "{\"value\":1}"};
      break;
    default:
      m.key = "gw/dev/t";
      break;
  }
  return m;
}

const MessageType kAllTypes[] = {MessageType::query_tag,   MessageType::tag_reply, MessageType::query_value,
                                 MessageType::value_reply, MessageType::store,     MessageType::store_ack,
                                 MessageType::ping,        MessageType::pong,      MessageType::sync_request,
                                 MessageType::sync_reply};

TEST(Wire, EveryMessageTypeRoundTripsAndItsSizeIsExact) {
  for (auto type : kAllTypes) {
    Message m = sample(type);
    std::vector<std::uint8_t> payload;
    encode(m, payload);
    EXPECT_EQ(payload.size(), 1 + encoded_size(m)) << static_cast<int>(type);
    auto decoded = decode(payload);
    ASSERT_TRUE(decoded) << static_cast<int>(type);
    ASSERT_EQ(decoded->size(), 1u);
    EXPECT_EQ((*decoded)[0], m) << static_cast<int>(type);
  }
}

TEST(Wire, ManyMessagesShareOnePayload) {
  std::vector<std::uint8_t> payload;
  std::vector<Message> sent;
  for (auto type : kAllTypes) {
    sent.push_back(sample(type));
    encode(sent.back(), payload);
  }
  auto decoded = decode(payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, sent);
}

TEST(Wire, EveryTruncationIsRejected) {
  std::vector<std::uint8_t> payload;
  encode(sample(MessageType::store), payload);
  encode(sample(MessageType::sync_reply), payload);
  for (std::size_t size = 0; size < payload.size(); ++size) {
    std::vector<std::uint8_t> cut(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(size));
    // A cut at a message boundary is a valid shorter payload; anything else must be rejected.
    auto decoded = decode(cut);
    if (decoded) {
      EXPECT_EQ(decoded->size(), 1u) << "size " << size;
    }
  }
}

TEST(Wire, UnknownTypeVersionAndBadFieldsAreRejected) {
  std::vector<std::uint8_t> payload;
  encode(sample(MessageType::ping), payload);
  auto bad_version = payload;
  bad_version[0] = 2;
  EXPECT_FALSE(decode(bad_version));
  auto bad_type = payload;
  bad_type[1] = 99;
  EXPECT_FALSE(decode(bad_type));
  auto bad_state = payload;
  bad_state.back() = 9;
  EXPECT_FALSE(decode(bad_state));
  EXPECT_FALSE(decode(std::vector<std::uint8_t>{kWireVersion}));  // no message at all
  EXPECT_FALSE(decode(std::vector<std::uint8_t>{}));
}

TEST(Wire, AValueOverTheLimitIsRejected) {
  Message m = sample(MessageType::store);
  m.versioned.value.assign(kMaxValueSize + 1, 'x');
  std::vector<std::uint8_t> payload;
  encode(m, payload);
  EXPECT_FALSE(decode(payload));
  m.versioned.value.assign(kMaxValueSize, 'x');
  payload.clear();
  encode(m, payload);
  EXPECT_TRUE(decode(payload));
}

TEST(Wire, RandomBytesNeverCrashTheDecoder) {
  std::mt19937_64 rng(7);
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> bytes(rng() % 64);
    for (auto& b : bytes) {
      b = static_cast<std::uint8_t>(rng());
    }
    if (!bytes.empty()) {
      bytes[0] = kWireVersion;
    }
    accepted += decode(bytes).has_value();
  }
  EXPECT_LT(accepted, 20000u);
}

}  // namespace
}  // namespace fg::quorum
