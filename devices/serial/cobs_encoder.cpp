#include "devices/serial/cobs_encoder.hpp"

#include "firmware/protocol/frame.h"

namespace fg::devices::serial {

void append_cobs_frame(std::vector<std::uint8_t>& out, std::uint8_t type,
                       std::span<const std::uint8_t> payload) {
  const std::size_t start = out.size();
  out.resize(start + FG_FRAME_MAX_WIRE_SIZE(payload.size()));
  // The worst case always fits, so fg_frame_encode cannot fail here.
  const std::size_t written =
      fg_frame_encode(type, payload.data(), payload.size(), out.data() + start, out.size() - start);
  out.resize(start + written);
}

std::vector<std::uint8_t> encode_cobs_frame(std::uint8_t type, std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  append_cobs_frame(out, type, payload);
  return out;
}

}  // namespace fg::devices::serial
