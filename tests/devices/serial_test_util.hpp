#pragma once

// Helpers shared by the devices/serial tests.

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "devices/serial/frame.hpp"

namespace fg::devices::serial::test {

inline std::span<const std::uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline std::string to_string(std::span<const std::uint8_t> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

// Collects frames as strings (with their type) for assertions.
struct Collected {
  std::vector<std::string> frames;
  std::vector<std::uint8_t> types;

  FrameHandler handler() {
    return [this](const Frame& frame) {
      frames.emplace_back(frame.text());
      types.push_back(frame.type);
    };
  }
};

inline std::vector<std::uint8_t> random_bytes(std::mt19937& rng, std::size_t size) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> out(size);
  for (auto& b : out) {
    b = static_cast<std::uint8_t>(byte(rng));
  }
  return out;
}

// Feeds data in chunks of random sizes between 1 and max_chunk.
template <class Framer>
void feed_in_random_chunks(Framer& framer, std::span<const std::uint8_t> data, std::mt19937& rng,
                           std::size_t max_chunk) {
  std::uniform_int_distribution<std::size_t> size(1, max_chunk);
  while (!data.empty()) {
    const std::size_t n = std::min(size(rng), data.size());
    framer.feed(data.first(n));
    data = data.subspan(n);
  }
}

template <class Framer>
void feed_byte_at_a_time(Framer& framer, std::span<const std::uint8_t> data) {
  for (std::size_t i = 0; i < data.size(); ++i) {
    framer.feed(data.subspan(i, 1));
  }
}

}  // namespace fg::devices::serial::test
