#include "quorum/secure_channel.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/secure_channel_fuzz_setup.hpp"

namespace fg::quorum {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}
std::string text_of(std::span<const std::uint8_t> b) {
  return std::string(b.begin(), b.end());
}

SiteKey test_key(std::uint8_t seed = 1) {
  std::array<std::uint8_t, SiteKey::kSize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(seed + i);
  }
  return SiteKey(bytes);
}

// Nodes 1, 2 and 3 of one site; node 2 is the receiver in most tests.
class SecureChannelTest : public ::testing::Test {
 protected:
  SiteKey key_ = test_key();
  SecureChannel one_{key_, 1, 10, {2, 3}};
  SecureChannel two_{key_, 2, 20, {1, 3}};
  SecureChannel three_{key_, 3, 30, {1, 2}};
};

TEST_F(SecureChannelTest, APayloadRoundTripsWithSenderAndEpoch) {
  Bytes datagram = one_.seal(2, bytes_of("t=21.5"));
  ASSERT_EQ(datagram.size(), SecureChannel::kHeaderSize + 6 + SecureChannel::kTagSize);
  auto opened = two_.open(datagram);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->from, 1u);
  EXPECT_EQ(opened->epoch, 10u);
  EXPECT_EQ(text_of(opened->payload), "t=21.5");
  EXPECT_EQ(two_.drops(), ChannelDrops{});
}

TEST_F(SecureChannelTest, TheHeaderIsLittleEndianAsDocumented) {
  SecureChannel sender(key_, 0x01020304, 0x1122334455667788, {2});
  (void)sender.seal(2, {});  // counter 1
  Bytes d = sender.seal(0x0a0b0c0d, bytes_of("x"));
  const Bytes expected_header = {'F',  'Q',  1,    0,    0x04, 0x03, 0x02, 0x01, 0x0d, 0x0c,
                                 0x0b, 0x0a, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                 2,    0,    0,    0,    0,    0,    0,    0};
  ASSERT_EQ(d.size(), 28u + 1 + 16);
  EXPECT_EQ(Bytes(d.begin(), d.begin() + 28), expected_header);
  auto header = SecureChannel::peek_header(d);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->sender, 0x01020304u);
  EXPECT_EQ(header->receiver, 0x0a0b0c0du);
  EXPECT_EQ(header->epoch, 0x1122334455667788u);
  EXPECT_EQ(header->counter, 2u);
}

// An independent construction of the same datagram with libsodium's API and the nonce spelled out, so
// that a change of the nonce layout or the associated data cannot pass unnoticed.
TEST_F(SecureChannelTest, SealIsXChaCha20Poly1305OverTheDocumentedNonceWithTheHeaderAsData) {
  Bytes d = one_.seal(2, bytes_of("hello"));
  std::array<std::uint8_t, 24> nonce = {1,  0, 0, 0,              // sender 1
                                        10, 0, 0, 0, 0, 0, 0, 0,  // epoch 10
                                        1,  0, 0, 0, 0, 0, 0, 0,  // counter 1
                                        0,  0, 0, 0};
  Bytes expected(5 + 16);
  unsigned long long n = 0;
  const Bytes message = bytes_of("hello");
  ASSERT_EQ(
      crypto_aead_xchacha20poly1305_ietf_encrypt(expected.data(), &n, message.data(), message.size(),
                                                 d.data(), 28, nullptr, nonce.data(), key_.bytes().data()),
      0);
  EXPECT_EQ(Bytes(d.begin() + 28, d.end()), expected);
}

TEST_F(SecureChannelTest, EachSealUsesTheNextCounter) {
  EXPECT_EQ(one_.next_counter(), 1u);
  auto a = one_.seal(2, bytes_of("same"));
  auto b = one_.seal(2, bytes_of("same"));
  EXPECT_EQ(SecureChannel::peek_header(a)->counter, 1u);
  EXPECT_EQ(SecureChannel::peek_header(b)->counter, 2u);
  EXPECT_EQ(one_.next_counter(), 3u);
  EXPECT_NE(Bytes(a.begin() + 28, a.end()), Bytes(b.begin() + 28, b.end()));
}

TEST_F(SecureChannelTest, SendersWithTheSameEpochAndCounterStillUseDifferentNonces) {
  SecureChannel a(key_, 1, 7, {2});
  SecureChannel b(key_, 3, 7, {2});
  auto from_a = a.seal(2, bytes_of("same payload"));
  auto from_b = b.seal(2, bytes_of("same payload"));
  EXPECT_NE(Bytes(from_a.begin() + 28, from_a.end()), Bytes(from_b.begin() + 28, from_b.end()));
}

TEST_F(SecureChannelTest, PayloadsFromEmptyToTheMaximumFitOneDatagram) {
  EXPECT_EQ(SecureChannel::kMaxPayload, 1356u);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, SecureChannel::kMaxPayload}) {
    Bytes payload(size, 0x42);
    Bytes d = one_.seal(2, payload);
    ASSERT_EQ(d.size(), size + 44);
    EXPECT_LE(d.size(), SecureChannel::kMaxDatagram);
    auto opened = two_.open(d);
    ASSERT_TRUE(opened) << size;
    EXPECT_EQ(Bytes(opened->payload.begin(), opened->payload.end()), payload);
  }
  EXPECT_TRUE(one_.seal(2, Bytes(SecureChannel::kMaxPayload + 1)).empty());
  EXPECT_EQ(one_.next_counter(), 4u) << "a refused seal must not use up a counter";
}

TEST_F(SecureChannelTest, EveryBadDatagramIsDroppedOnceForItsReason) {
  Bytes good = one_.seal(2, bytes_of("payload"));
  ChannelDrops expected;

  EXPECT_FALSE(two_.open(Bytes(SecureChannel::kMaxDatagram + 1, 0)));
  ++expected.oversized;
  EXPECT_FALSE(two_.open(Bytes(good.begin(), good.begin() + 43)));
  ++expected.truncated;
  EXPECT_FALSE(two_.open({}));
  ++expected.truncated;
  for (std::size_t at : {0, 1, 2, 3}) {
    Bytes bad = good;
    bad[at] ^= 0x40;
    EXPECT_FALSE(two_.open(bad)) << at;
    ++expected.garbled;
  }
  SecureChannel stranger(key_, 9, 1, {2});
  EXPECT_FALSE(two_.open(stranger.seal(2, bytes_of("x"))));
  ++expected.unknown_peer;
  SecureChannel impostor(key_, 2, 1, {2});  // claims to be node 2 itself
  EXPECT_FALSE(two_.open(impostor.seal(2, bytes_of("x"))));
  ++expected.unknown_peer;
  EXPECT_FALSE(two_.open(one_.seal(3, bytes_of("for 3"))));
  ++expected.misdirected;
  SecureChannel other_site(test_key(99), 1, 10, {2});
  EXPECT_FALSE(two_.open(other_site.seal(2, bytes_of("x"))));
  ++expected.forged;
  for (std::size_t at :
       {std::size_t{4}, std::size_t{12}, std::size_t{20}, std::size_t{28}, good.size() - 1}) {
    // Header fields are associated data: altering the epoch or counter breaks authentication too. (Bytes
    // 4..11 hold the ids, which the id checks catch first; byte 4 is flipped to another id within the
    // peers so it reaches authentication.)
    Bytes bad = good;
    bad[at] ^= at == 4 ? 0x02 : 0x01;  // sender 1 -> 3 for the id byte
    EXPECT_FALSE(two_.open(bad)) << at;
    ++expected.forged;
  }
  EXPECT_EQ(two_.drops(), expected);

  // The genuine datagram still opens, and only once.
  ASSERT_TRUE(two_.open(good));
  EXPECT_FALSE(two_.open(good));
  ++expected.replayed;
  EXPECT_EQ(two_.drops(), expected);
  EXPECT_EQ(two_.drops().total(), 17u);
}

TEST_F(SecureChannelTest, APreviousBootsDatagramsAreDroppedAsReplays) {
  SecureChannel old_boot(key_, 1, 9, {2, 3});
  Bytes late = old_boot.seal(2, bytes_of("from boot 9"));
  ASSERT_TRUE(two_.open(one_.seal(2, bytes_of("from boot 10"))));
  EXPECT_FALSE(two_.open(late));
  EXPECT_EQ(two_.drops().replayed, 1u);
  // After another reboot the peer's counter starts at 1 again and is accepted.
  SecureChannel new_boot(key_, 1, 11, {2, 3});
  auto opened = two_.open(new_boot.seal(2, bytes_of("from boot 11")));
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->epoch, 11u);
}

TEST_F(SecureChannelTest, AGenuineDatagramOfAnOlderEpochIsToldApartPerPeer) {
  ASSERT_TRUE(two_.open(one_.seal(2, bytes_of("from boot 10"))));
  SecureChannel behind(key_, 1, 7, {2, 3});  // a new state directory while the clock was behind
  EXPECT_FALSE(two_.open(behind.seal(2, bytes_of("from boot 7"))));
  auto stale = two_.take_stale_epoch();
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->from, 1u);
  EXPECT_EQ(stale->sent, 7u);
  EXPECT_EQ(stale->seen, 10u);
  EXPECT_FALSE(two_.take_stale_epoch());  // taken once
  EXPECT_EQ(two_.replayed_from(1), 1u);
  EXPECT_EQ(two_.replayed_from(3), 0u);
  // A replay within the epoch is no stale epoch, and a forged old-epoch datagram is no replay at all.
  Bytes again = one_.seal(2, bytes_of("once"));
  ASSERT_TRUE(two_.open(again));
  EXPECT_FALSE(two_.open(again));
  EXPECT_FALSE(two_.take_stale_epoch());
  SecureChannel forger(test_key(9), 1, 7, {2, 3});
  EXPECT_FALSE(two_.open(forger.seal(2, bytes_of("forged"))));
  EXPECT_FALSE(two_.take_stale_epoch());
  EXPECT_EQ(two_.replayed_from(1), 2u);
  // Moved to an epoch above the one seen, the sender is heard again, counters from 1.
  behind.set_epoch(11);
  EXPECT_EQ(behind.next_counter(), 1u);
  auto opened = two_.open(behind.seal(2, bytes_of("from boot 11")));
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->epoch, 11u);
}

TEST_F(SecureChannelTest, DatagramsTooFarBehindAreDroppedAsReplays) {
  Bytes first = one_.seal(2, bytes_of("first"));
  Bytes kept;
  for (int i = 0; i < 1100; ++i) {
    kept = one_.seal(2, bytes_of("later"));
  }
  ASSERT_TRUE(two_.open(kept));
  EXPECT_FALSE(two_.open(first));
  EXPECT_EQ(two_.drops().replayed, 1u);
}

TEST_F(SecureChannelTest, AForgedDatagramDoesNotMoveTheReplayWindow) {
  Bytes genuine = one_.seal(2, bytes_of("genuine"));
  // A forgery with a huge counter, under another key: if it moved the window, the genuine datagram
  // would then be too old.
  SecureChannel forger(test_key(77), 1, 10, {2});
  Bytes forged = forger.seal(2, bytes_of("x"));
  forged[20 + 7] = 0x7f;  // counter's most significant byte
  EXPECT_FALSE(two_.open(forged));
  EXPECT_EQ(two_.drops().forged, 1u);
  EXPECT_TRUE(two_.open(genuine));
}

TEST_F(SecureChannelTest, ReorderedDatagramsFromSeveralPeersAreEachAcceptedOnce) {
  std::vector<Bytes> from_one, from_three;
  for (int i = 0; i < 5; ++i) {
    from_one.push_back(one_.seal(2, bytes_of("1:" + std::to_string(i))));
    from_three.push_back(three_.seal(2, bytes_of("3:" + std::to_string(i))));
  }
  std::vector<std::string> got;
  for (int i : {4, 0, 2, 1, 3}) {
    for (const auto* list : {&from_one, &from_three}) {
      auto opened = two_.open((*list)[static_cast<std::size_t>(i)]);
      ASSERT_TRUE(opened);
      got.push_back(text_of(opened->payload));
    }
  }
  EXPECT_EQ(got.size(), 10u);
  for (const auto& d : from_one) {
    EXPECT_FALSE(two_.open(d));
  }
  EXPECT_EQ(two_.drops().replayed, 5u);
}

TEST(SecureChannelConstruction, IgnoresZeroDuplicatesAndSelfAmongThePeers) {
  SecureChannel c(test_key(), 2, 1, {3, 0, 2, 3, 1});
  EXPECT_TRUE(c.is_peer(1));
  EXPECT_TRUE(c.is_peer(3));
  EXPECT_FALSE(c.is_peer(0));
  EXPECT_FALSE(c.is_peer(2));
  EXPECT_FALSE(c.is_peer(4));
  EXPECT_EQ(c.self(), 2u);
  EXPECT_EQ(c.epoch(), 1u);
}

TEST(SecureChannelFuzzSeeds, TheCommittedSeedsAreWhatTheGeneratorMakes) {
  const std::filesystem::path dir =
      std::filesystem::path(FG_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_secure_channel";
  auto seeds = fuzz::seed_inputs();
  ASSERT_GE(seeds.size(), 5u);
  for (const auto& [name, bytes] : seeds) {
    std::ifstream in(dir / name, std::ios::binary);
    ASSERT_TRUE(in) << (dir / name) << " is missing: run secure_channel_seeds " << dir.string();
    Bytes committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(committed, bytes) << name << " is stale: run secure_channel_seeds " << dir.string();
  }
}

TEST(SecureChannelFuzzSeeds, TheValidSeedsOpenOnTheFuzzTargetsChannel) {
  for (const auto& [name, bytes] : fuzz::seed_inputs()) {
    if (!name.starts_with("valid_")) {
      continue;
    }
    SecureChannel receiver(fuzz::fuzz_key(), fuzz::kReceiver, fuzz::kReceiverEpoch, fuzz::kReceiverPeers);
    auto records = fuzz::split_records(bytes);
    ASSERT_FALSE(records.empty()) << name;
    EXPECT_TRUE(receiver.open(records.front())) << name;
  }
}

}  // namespace
}  // namespace fg::quorum
