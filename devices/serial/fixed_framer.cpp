#include "devices/serial/fixed_framer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <utility>

namespace fg::devices::serial {

Expected<FixedFramer, ConfigError> FixedFramer::create(FixedFramerConfig config, FrameHandler handler) {
  if (config.record_size == 0 || config.record_size > kMaxRecordSize) {
    return fail(ConfigError{fmt::format("record size must be between 1 and {}", kMaxRecordSize)});
  }
  if (!handler) {
    return fail(ConfigError{"fixed framer needs a frame handler"});
  }
  return FixedFramer(config, std::move(handler));
}

FixedFramer::FixedFramer(FixedFramerConfig config, FrameHandler handler)
    : record_size_(config.record_size), handler_(std::move(handler)) {
  buffer_.reserve(record_size_);
}

void FixedFramer::feed(std::span<const std::uint8_t> chunk) {
  counters_.bytes += chunk.size();
  while (!chunk.empty()) {
    if (buffer_.empty() && chunk.size() >= record_size_) {
      emit(chunk.first(record_size_));
      chunk = chunk.subspan(record_size_);
      continue;
    }
    const std::size_t take = std::min(record_size_ - buffer_.size(), chunk.size());
    buffer_.insert(buffer_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    chunk = chunk.subspan(take);
    if (buffer_.size() == record_size_) {
      emit(buffer_);
      buffer_.clear();
    }
  }
}

void FixedFramer::emit(std::span<const std::uint8_t> record) {
  ++counters_.frames;
  handler_(Frame{record, 0});
}

void FixedFramer::reset() {
  if (!buffer_.empty()) {
    ++counters_.discarded;
    counters_.dropped_bytes += buffer_.size();
  }
  buffer_.clear();
}

}  // namespace fg::devices::serial
