// libFuzzer target for quorum's message decoder (quorum/wire.hpp): arbitrary payloads must never crash it
// or read out of bounds, and whatever it accepts must encode back to the same bytes and decode to the same
// messages (so a replica never acts on a half-understood datagram).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "quorum/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> payload(data, size);
  auto messages = fg::quorum::decode(payload);
  if (!messages) {
    return 0;
  }
  std::vector<std::uint8_t> again;
  for (const auto& message : *messages) {
    fg::quorum::encode(message, again);
  }
  if (again.size() != size || !std::equal(again.begin(), again.end(), payload.begin())) {
    std::abort();  // accepted bytes that do not round-trip: two encodings of one message
  }
  auto redecoded = fg::quorum::decode(again);
  if (!redecoded || *redecoded != *messages) {
    std::abort();
  }
  return 0;
}
