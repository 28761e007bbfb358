#include "devices/serial/line_framer.hpp"

#include <fmt/core.h>

#include <utility>

namespace fg::devices::serial {

Expected<LineFramer, ConfigError> LineFramer::create(LineFramerConfig config, FrameHandler handler) {
  if (config.delimiter.empty()) {
    return fail(ConfigError{"line delimiter must not be empty"});
  }
  if (config.delimiter.size() > kMaxDelimiterLength) {
    return fail(ConfigError{fmt::format("line delimiter must be at most {} bytes", kMaxDelimiterLength)});
  }
  if (config.max_length == 0 || config.max_length > kMaxLineLength) {
    return fail(ConfigError{fmt::format("max line length must be between 1 and {}", kMaxLineLength)});
  }
  if (!handler) {
    return fail(ConfigError{"line framer needs a frame handler"});
  }
  return LineFramer(std::move(config), std::move(handler));
}

LineFramer::LineFramer(LineFramerConfig config, FrameHandler handler)
    : delimiter_(std::move(config.delimiter)),
      fallback_(delimiter_.size(), 0),
      crlf_(delimiter_ == "\n"),
      max_length_(config.max_length),
      skip_empty_(config.skip_empty),
      handler_(std::move(handler)) {
  // The classic failure function: fallback_[i] is the length of the longest proper prefix of
  // delimiter_[0..i] that is also a suffix of it.
  std::size_t k = 0;
  for (std::size_t i = 1; i < delimiter_.size(); ++i) {
    while (k > 0 && delimiter_[i] != delimiter_[k]) {
      k = fallback_[k - 1];
    }
    if (delimiter_[i] == delimiter_[k]) {
      ++k;
    }
    fallback_[i] = k;
  }
  // Reserved once: the buffer never needs more, so it never reallocates.
  buffer_.reserve(max_length_ + delimiter_.size() - 1 + (crlf_ ? 1 : 0));
}

std::size_t LineFramer::advance(std::size_t matched, std::uint8_t byte) const noexcept {
  const char c = static_cast<char>(byte);
  while (matched > 0 && delimiter_[matched] != c) {
    matched = fallback_[matched - 1];
  }
  return delimiter_[matched] == c ? matched + 1 : 0;
}

void LineFramer::feed(std::span<const std::uint8_t> chunk) {
  counters_.bytes += chunk.size();
  const std::size_t delimiter_length = delimiter_.size();
  for (const std::uint8_t byte : chunk) {
    matched_ = advance(matched_, byte);
    if (matched_ == delimiter_length) {
      matched_ = 0;
      if (discarding_) {
        discarding_ = false;
        ++counters_.dropped_bytes;
      } else {
        end_line();
      }
      continue;
    }
    if (discarding_) {
      ++counters_.dropped_bytes;
      continue;
    }
    // With this byte, the last matched_ bytes may yet turn out to be the delimiter (and with crlf_, a \r
    // may yet turn out to be its first byte); everything before them is certainly part of the line. The
    // check comes before the push so the buffer never outgrows its reservation, even when a partial
    // delimiter at the limit turns out not to be one.
    const std::size_t pending = matched_ + (crlf_ && byte == '\r' ? 1 : 0);
    if (buffer_.size() + 1 - pending > max_length_) {
      ++counters_.overlong;
      counters_.dropped_bytes += buffer_.size() + 1;
      buffer_.clear();
      discarding_ = true;
      continue;
    }
    buffer_.push_back(byte);
  }
}

void LineFramer::end_line() {
  // The buffer holds the line and the first delimiter_length - 1 bytes of the delimiter; the byte that
  // completed it was never stored.
  std::size_t length = buffer_.size() - (delimiter_.size() - 1);
  std::size_t delimiter_length = delimiter_.size();
  if (crlf_ && length > 0 && buffer_[length - 1] == '\r') {
    --length;
    ++delimiter_length;
  }
  if (length == 0 && skip_empty_) {
    ++counters_.empty;
    counters_.dropped_bytes += delimiter_length;
  } else {
    ++counters_.frames;
    handler_(Frame{std::span<const std::uint8_t>(buffer_.data(), length), 0});
  }
  buffer_.clear();
}

void LineFramer::reset() {
  if (!buffer_.empty() || discarding_) {
    ++counters_.discarded;
    counters_.dropped_bytes += buffer_.size();
  }
  buffer_.clear();
  matched_ = 0;
  discarding_ = false;
}

}  // namespace fg::devices::serial
