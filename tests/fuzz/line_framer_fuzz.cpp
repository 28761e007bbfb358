// LineFramer: any bytes, any delimiter of a few shapes, any chunking. Whole and chunked feeds must give the
// same lines and counters; no line exceeds max_length or contains the delimiter; memory stays bounded. With
// "\n", the lines are those of a plain split at \n that takes one \r off the end of each.

#include <string>
#include <string_view>
#include <vector>

#include "devices/serial/line_framer.hpp"
#include "fuzz_util.hpp"

using namespace fg::devices::serial;

namespace {

// The lines of `stream` with the delimiter "\n", written the obvious way: split at each \n, take one \r
// off the end, drop what is longer than max_length (and empty lines if asked); an unfinished line stays
// out.
std::vector<std::string> split_at_newline(std::string_view stream, std::size_t max_length, bool skip_empty) {
  std::vector<std::string> lines;
  for (std::size_t at = stream.find('\n'); at != std::string_view::npos; at = stream.find('\n')) {
    std::string_view line = stream.substr(0, at);
    stream.remove_prefix(at + 1);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    if (line.size() <= max_length && !(skip_empty && line.empty())) {
      lines.emplace_back(line);
    }
  }
  return lines;
}

struct Run {
  std::vector<std::string> lines;
  FramerCounters counters;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  static const char* const kDelimiters[] = {"\n", "\r\n", "END", "aab", "\r\r\n", "x"};
  const std::uint8_t config = input.take_byte();
  const std::string delimiter = (config & 0x80) != 0 ? std::string(1, '\0') : kDelimiters[config % 6];
  const std::size_t max_length = 1 + input.take_byte() % 64;
  const bool skip_empty = (config & 0x40) != 0;
  const std::span<const std::uint8_t> stream = input.rest();

  const auto run = [&](bool chunked) {
    Run r;
    auto framer = LineFramer::create({delimiter, max_length, skip_empty}, [&](const Frame& frame) {
      FG_FUZZ_CHECK(frame.payload.size() <= max_length);
      FG_FUZZ_CHECK(frame.text().find(delimiter) == std::string_view::npos);
      FG_FUZZ_CHECK(!skip_empty || !frame.payload.empty());
      FG_FUZZ_CHECK(frame.type == 0);
      r.lines.emplace_back(frame.text());
    });
    FG_FUZZ_CHECK(framer.has_value());
    const std::size_t capacity = framer->buffer_capacity();
    if (chunked) {
      fuzz::feed_in_chunks(*framer, stream, static_cast<std::uint32_t>(size * 2654435761u));
    } else {
      framer->feed(stream);
    }
    FG_FUZZ_CHECK(framer->buffer_capacity() == capacity);
    FG_FUZZ_CHECK(capacity <= max_length + delimiter.size() - 1 + 16);
    r.counters = framer->counters();
    FG_FUZZ_CHECK(r.counters.bytes == stream.size());
    FG_FUZZ_CHECK(r.counters.frames == r.lines.size());
    std::size_t delivered = 0;
    for (const auto& line : r.lines) {
      delivered += line.size() + delimiter.size();
    }
    FG_FUZZ_CHECK(delivered + r.counters.dropped_bytes <= stream.size());
    framer->reset();
    return r;
  };

  const Run whole = run(false);
  const Run chunked = run(true);
  FG_FUZZ_CHECK(whole.lines == chunked.lines);
  FG_FUZZ_CHECK(whole.counters.overlong == chunked.counters.overlong);
  FG_FUZZ_CHECK(whole.counters.empty == chunked.counters.empty);
  FG_FUZZ_CHECK(whole.counters.dropped_bytes == chunked.counters.dropped_bytes);
  if (delimiter == "\n") {
    const std::string_view text(reinterpret_cast<const char*>(stream.data()), stream.size());
    FG_FUZZ_CHECK(whole.lines == split_at_newline(text, max_length, skip_empty));
  }
  return 0;
}
