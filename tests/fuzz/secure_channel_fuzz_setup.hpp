#pragma once
// What the secure-channel fuzz target, its seed generator and the test that checks the committed seeds
// share: the fixed key and node ids, the input format, and the seed inputs themselves.
//
// Input format: a sequence of records, each a 2-byte little-endian length and that many bytes (the last
// record is cut at the input's end); each record is one datagram given to SecureChannel::open on a channel
// of node 2 (epoch 1) whose peers are nodes 1 and 3. Sealing is deterministic (the nonce comes from the
// header), so the seeds are reproducible byte for byte: tests/quorum/secure_channel_seeds regenerates them,
// and SecureChannelFuzzSeeds in tests/quorum/test_secure_channel.cpp fails if the committed ones differ.
//
// Compiled by the fuzz build (clang 14): no <expected>.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "quorum/secure_channel.hpp"
#include "quorum/site_key.hpp"

namespace fg::quorum::fuzz {

inline constexpr NodeId kReceiver = 2;
inline constexpr std::uint64_t kReceiverEpoch = 1;
inline const std::vector<NodeId> kReceiverPeers = {1, 3};

inline SiteKey fuzz_key() {
  std::array<std::uint8_t, SiteKey::kSize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(0x5a ^ (i * 29));
  }
  return SiteKey(bytes);
}

inline std::vector<std::span<const std::uint8_t>> split_records(std::span<const std::uint8_t> input) {
  std::vector<std::span<const std::uint8_t>> records;
  while (input.size() >= 2) {
    const std::size_t length =
        std::min<std::size_t>(input[0] | (std::size_t{input[1]} << 8), input.size() - 2);
    records.push_back(input.subspan(2, length));
    input = input.subspan(2 + length);
  }
  return records;
}

inline void append_record(std::vector<std::uint8_t>& input, std::span<const std::uint8_t> datagram) {
  input.push_back(static_cast<std::uint8_t>(datagram.size() & 0xff));
  input.push_back(static_cast<std::uint8_t>(datagram.size() >> 8));
  input.insert(input.end(), datagram.begin(), datagram.end());
}

inline std::span<const std::uint8_t> text(const char* s) {
  return {reinterpret_cast<const std::uint8_t*>(s), std::char_traits<char>::length(s)};
}

// The seed corpus: named inputs, mostly valid datagrams, so the fuzzer starts past the MAC check.
inline std::vector<std::pair<std::string, std::vector<std::uint8_t>>> seed_inputs() {
  const SiteKey key = fuzz_key();
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> seeds;
  auto seed = [&](const std::string& name, const std::vector<std::vector<std::uint8_t>>& datagrams) {
    std::vector<std::uint8_t> input;
    for (const auto& d : datagrams) {
      append_record(input, d);
    }
    seeds.emplace_back(name, std::move(input));
  };
  {
    SecureChannel one(key, 1, 5, {2, 3});
    seed("valid_one", {one.seal(kReceiver, text("t=21.5"))});
  }
  {
    SecureChannel one(key, 1, 5, {2, 3});
    auto d = one.seal(kReceiver, text("once"));
    seed("valid_replayed", {d, d});
  }
  {
    SecureChannel one(key, 1, 5, {2, 3});
    SecureChannel three(key, 3, 9, {1, 2});
    auto a = one.seal(kReceiver, text("a"));
    auto b = one.seal(kReceiver, text("b"));
    auto c = one.seal(kReceiver, text("c"));
    seed("valid_reordered_two_peers", {c, three.seal(kReceiver, text("x")), a, b, a});
  }
  {
    SecureChannel old_boot(key, 1, 5, {2, 3});
    SecureChannel new_boot(key, 1, 6, {2, 3});
    auto old1 = old_boot.seal(kReceiver, text("old 1"));
    auto old2 = old_boot.seal(kReceiver, text("old 2"));
    seed("valid_epochs", {old1, new_boot.seal(kReceiver, text("new 1")), old2});
  }
  {
    SecureChannel one(key, 1, 5, {2, 3});
    seed("valid_empty_and_max",
         {one.seal(kReceiver, {}),
          one.seal(kReceiver, std::vector<std::uint8_t>(SecureChannel::kMaxPayload, 0xa5))});
  }
  {
    SecureChannel one(key, 1, 5, {2, 3});
    SecureChannel stranger(key, 9, 1, {2});
    seed("misdirected_and_unknown", {one.seal(3, text("for 3")), stranger.seal(kReceiver, text("from 9"))});
  }
  {
    SecureChannel one(key, 1, 5, {2, 3});
    auto d = one.seal(kReceiver, text("bit flipped"));
    d[SecureChannel::kHeaderSize + 2] ^= 0x01;
    auto header_only = std::vector<std::uint8_t>(d.begin(), d.begin() + SecureChannel::kHeaderSize);
    seed("forged_and_truncated", {d, header_only});
  }
  return seeds;
}

}  // namespace fg::quorum::fuzz
