// CobsFramer and the frame encoder. The input is used twice:
//  1. as a raw byte stream: whole and chunked feeds agree, every frame respects max_payload, and every frame
//     delivered re-encodes to a frame that decodes to itself;
//  2. as a payload: encoding it and feeding the result in chunks must deliver exactly that payload and type,
//     and with a max_payload one byte smaller must deliver nothing and count it overlong.

#include <string>
#include <utility>
#include <vector>

#include "devices/serial/cobs_encoder.hpp"
#include "devices/serial/cobs_framer.hpp"
#include "fuzz_util.hpp"

using namespace fg::devices::serial;

namespace {

using Frames = std::vector<std::pair<std::uint8_t, std::string>>;

Frames decode(std::span<const std::uint8_t> stream, std::size_t max_payload, bool chunked, std::uint32_t seed,
              FramerCounters* counters = nullptr) {
  Frames frames;
  auto framer = CobsFramer::create({max_payload}, [&](const Frame& frame) {
    FG_FUZZ_CHECK(frame.payload.size() <= max_payload);
    FG_FUZZ_CHECK(frame.type < 16);
    frames.emplace_back(frame.type, std::string(frame.text()));
  });
  FG_FUZZ_CHECK(framer.has_value());
  if (chunked) {
    fuzz::feed_in_chunks(*framer, stream, seed);
  } else {
    framer->feed(stream);
  }
  FG_FUZZ_CHECK(framer->counters().bytes == stream.size());
  FG_FUZZ_CHECK(framer->counters().frames == frames.size());
  FG_FUZZ_CHECK(framer->buffer_capacity() == max_payload + 3);
  if (counters != nullptr) {
    *counters = framer->counters();
  }
  return frames;
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const std::uint8_t type = input.take_byte() & 0x0F;
  const std::size_t max_payload = input.take_byte() % 200;
  const std::span<const std::uint8_t> rest = input.rest();
  const auto seed = static_cast<std::uint32_t>(size * 2246822519u);

  // 1. Raw stream.
  FramerCounters whole_counters;
  FramerCounters chunked_counters;
  const Frames whole = decode(rest, max_payload, false, seed, &whole_counters);
  const Frames chunked = decode(rest, max_payload, true, seed, &chunked_counters);
  FG_FUZZ_CHECK(whole == chunked);
  FG_FUZZ_CHECK(whole_counters.bad_crc == chunked_counters.bad_crc);
  FG_FUZZ_CHECK(whole_counters.bad_cobs == chunked_counters.bad_cobs);
  FG_FUZZ_CHECK(whole_counters.overlong == chunked_counters.overlong);
  FG_FUZZ_CHECK(whole_counters.dropped_bytes == chunked_counters.dropped_bytes);
  for (const auto& [frame_type, payload] : whole) {
    const auto again = decode(encode_cobs_frame(frame_type, bytes_of(payload)), max_payload, false, seed);
    FG_FUZZ_CHECK(again.size() == 1 && again[0].first == frame_type && again[0].second == payload);
  }

  // 2. The input as a payload.
  const std::vector<std::uint8_t> wire = encode_cobs_frame(type, rest);
  FG_FUZZ_CHECK(wire.size() <= FG_FRAME_MAX_WIRE_SIZE(rest.size()));
  FG_FUZZ_CHECK(wire.back() == 0);
  const Frames round_trip = decode(wire, rest.size(), true, seed);
  FG_FUZZ_CHECK(round_trip.size() == 1);
  FG_FUZZ_CHECK(round_trip[0].first == type);
  FG_FUZZ_CHECK(round_trip[0].second ==
                std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()));
  if (!rest.empty()) {
    FramerCounters counters;
    FG_FUZZ_CHECK(decode(wire, rest.size() - 1, true, seed, &counters).empty());
    FG_FUZZ_CHECK(counters.overlong == 1);
  }
  return 0;
}
