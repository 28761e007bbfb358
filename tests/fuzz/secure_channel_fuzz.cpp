// SecureChannel::open on arbitrary bytes. The input is a sequence of datagrams
// (secure_channel_fuzz_setup.hpp) opened in turn on a fresh channel of node 2 with a fixed key; the seeds
// hold genuine datagrams, so mutations reach the replay window and the payload path, not only the MAC check.
// Invariants:
//  - every datagram either opens or is counted as exactly one drop;
//  - an opened datagram is well-formed, from a peer, to this node, with a payload of its size minus 44;
//  - a datagram that opened never opens again (it counts as replayed);
//  - the whole input as a payload round-trips through seal and open, or seal refuses it for its size.

#include <cstring>
#include <vector>

#include "fuzz_util.hpp"
#include "secure_channel_fuzz_setup.hpp"

using namespace fg::quorum;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const SiteKey key = fuzz::fuzz_key();
  const std::span<const std::uint8_t> input(data, size);

  SecureChannel receiver(key, fuzz::kReceiver, fuzz::kReceiverEpoch, fuzz::kReceiverPeers);
  for (std::span<const std::uint8_t> datagram : fuzz::split_records(input)) {
    const ChannelDrops before = receiver.drops();
    auto opened = receiver.open(datagram);
    if (!opened) {
      FG_FUZZ_CHECK(receiver.drops().total() == before.total() + 1);
      continue;
    }
    FG_FUZZ_CHECK(receiver.drops() == before);
    FG_FUZZ_CHECK(receiver.is_peer(opened->from));
    FG_FUZZ_CHECK(datagram.size() <= SecureChannel::kMaxDatagram);
    FG_FUZZ_CHECK(opened->payload.size() + SecureChannel::kHeaderSize + SecureChannel::kTagSize ==
                  datagram.size());
    const auto header = SecureChannel::peek_header(datagram);
    FG_FUZZ_CHECK(header.has_value());
    FG_FUZZ_CHECK(header->sender == opened->from && header->receiver == fuzz::kReceiver);
    FG_FUZZ_CHECK(header->epoch == opened->epoch && header->counter != 0);
    FG_FUZZ_CHECK(!receiver.open(datagram));
    FG_FUZZ_CHECK(receiver.drops().replayed == before.replayed + 1);
  }

  SecureChannel sender(key, 1, 3, {fuzz::kReceiver});
  const std::vector<std::uint8_t> sealed = sender.seal(fuzz::kReceiver, input);
  if (size > SecureChannel::kMaxPayload) {
    FG_FUZZ_CHECK(sealed.empty());
    return 0;
  }
  FG_FUZZ_CHECK(sealed.size() == size + SecureChannel::kHeaderSize + SecureChannel::kTagSize);
  SecureChannel fresh(key, fuzz::kReceiver, fuzz::kReceiverEpoch, fuzz::kReceiverPeers);
  auto opened = fresh.open(sealed);
  FG_FUZZ_CHECK(opened.has_value());
  FG_FUZZ_CHECK(opened->from == 1 && opened->epoch == 3);
  FG_FUZZ_CHECK(opened->payload.size() == size);
  FG_FUZZ_CHECK(size == 0 || std::memcmp(opened->payload.data(), data, size) == 0);
  return 0;
}
