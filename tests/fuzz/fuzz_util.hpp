#pragma once

// Helpers shared by the libFuzzer targets.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

// An invariant the code under test must keep; a violation aborts, which libFuzzer reports as a crash and
// saves the input.
#define FG_FUZZ_CHECK(condition)                                                                   \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      (void)std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace fg::devices::serial::fuzz {

// Takes configuration bytes off the front of the input; returns 0 once the input is used up.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : rest_(data, size) {}

  std::uint8_t take_byte() {
    if (rest_.empty()) {
      return 0;
    }
    const std::uint8_t b = rest_.front();
    rest_ = rest_.subspan(1);
    return b;
  }

  std::span<const std::uint8_t> rest() const { return rest_; }
  std::string_view rest_text() const { return {reinterpret_cast<const char*>(rest_.data()), rest_.size()}; }

 private:
  std::span<const std::uint8_t> rest_;
};

// Feeds data to a framer in chunks whose sizes come from a small deterministic generator seeded by the
// input, so a crash replays exactly, and the same input is cut differently from a whole feed.
template <class Framer>
void feed_in_chunks(Framer& framer, std::span<const std::uint8_t> data, std::uint32_t seed) {
  std::uint32_t state = seed | 1u;
  while (!data.empty()) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    // Mostly small chunks (single bytes included), sometimes large ones.
    const std::size_t limit = (state & 0x100u) != 0 ? 4096 : 8;
    const std::size_t n = std::min<std::size_t>(data.size(), 1 + state % limit);
    framer.feed(data.first(n));
    data = data.subspan(n);
  }
}

}  // namespace fg::devices::serial::fuzz
