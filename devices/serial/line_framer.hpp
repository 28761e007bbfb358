#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/frame.hpp"
#include "devices/serial/framer_counters.hpp"

namespace fg::devices::serial {

struct LineFramerConfig {
  // Any non-empty byte string ends a line: "\n", "\r\n", or "END". It may arrive split across chunks.
  // "\n" (the default, or written out) also takes one \r right before it, so CRLF and LF devices give
  // the same lines; every other delimiter is matched byte for byte.
  std::string delimiter = "\n";
  // The longest line delivered, in bytes, without its delimiter.
  std::size_t max_length = 1024;
  // Empty lines (two delimiters in a row) are counted and skipped rather than delivered.
  bool skip_empty = true;

  bool operator==(const LineFramerConfig&) const = default;
};

// Splits a byte stream into lines at a delimiter.
//
// A line longer than max_length is counted as overlong and discarded up to and including its next
// delimiter, so memory stays bounded by max_length plus the delimiter's length however long the device
// goes without sending one. The line after it is delivered normally.
//
// The delimiter is matched with a Knuth-Morris-Pratt automaton, one byte at a time, so a delimiter with a
// repeated prefix ("\r\r\n", "ENDEND") is found wherever it starts and no byte is looked at twice. The
// first occurrence ends the line, so a delivered line never contains the delimiter.
//
// With the delimiter "\n", one \r right before it is part of the delimiter: it is not delivered, does not
// count towards max_length, and "\r\n" alone is an empty line. A \r anywhere else is line content. The
// rule belongs to the delimiter "\n" whether it is the default or written out (the two cannot differ);
// any other delimiter, "\r\n" and "\r" included, is matched exactly and leaves what precedes it alone.
// Known limit: with "\n", a \r of data right before the \n is taken for the delimiter's.
class LineFramer {
 public:
  static constexpr std::size_t kMaxDelimiterLength = 16;
  static constexpr std::size_t kMaxLineLength = std::size_t{64} * 1024;

  static Expected<LineFramer, ConfigError> create(LineFramerConfig config, FrameHandler handler);

  void feed(std::span<const std::uint8_t> chunk);
  // Drops a partial line, for instance after the port was reopened; counted as discarded.
  void reset();

  const FramerCounters& counters() const noexcept { return counters_; }
  // Bytes of memory held for the partial line; never more than max_length + delimiter length - 1, plus
  // one for a \r that may be the delimiter's with "\n".
  std::size_t buffer_capacity() const noexcept { return buffer_.capacity(); }

 private:
  LineFramer(LineFramerConfig config, FrameHandler handler);
  std::size_t advance(std::size_t matched, std::uint8_t byte) const noexcept;
  void end_line();

  std::string delimiter_;
  std::vector<std::size_t> fallback_;  // KMP failure function: fallback_[i] for a mismatch after i + 1 bytes
  bool crlf_;                          // the delimiter is "\n": a \r right before it belongs to it
  std::size_t max_length_;
  bool skip_empty_;
  FrameHandler handler_;
  std::vector<std::uint8_t>
      buffer_;               // the line so far, ending with the matched_ bytes of a partial delimiter
  std::size_t matched_ = 0;  // delimiter bytes matched at the end of the stream so far
  bool discarding_ = false;  // inside an overlong line, waiting for its delimiter
  FramerCounters counters_;
};

}  // namespace fg::devices::serial
