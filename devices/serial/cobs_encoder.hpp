#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace fg::devices::serial {

// Appends the wire form of one frame of firmware/protocol/frame.h to out: COBS of header (version and type),
// payload and CRC-16/CCITT-FALSE, then the 0x00 delimiter. Only the low four bits of type are sent. Used to
// send commands to our own sensor nodes (firmware/), and by the tests.
void append_cobs_frame(std::vector<std::uint8_t>& out, std::uint8_t type,
                       std::span<const std::uint8_t> payload);

// The same, as a new vector.
std::vector<std::uint8_t> encode_cobs_frame(std::uint8_t type, std::span<const std::uint8_t> payload);

}  // namespace fg::devices::serial
