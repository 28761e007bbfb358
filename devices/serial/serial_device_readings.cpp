// SerialDevice: from frames to Readings. A frame is a reply to the request in progress, or a line of fields;
// each field goes through its channel (conversion, filters) or, unlisted, gets an automatic kind.

#include <chrono>

#include "devices/serial/serial_device_core.hpp"
#include "firmware/protocol/frame.h"

namespace fg::devices::serial {
namespace {

ReadingValue to_reading_value(Value&& value) {
  return std::visit([](auto&& x) -> ReadingValue { return std::move(x); }, std::move(value));
}

// An unlisted channel: a boolean stays a boolean (JSON true/false); text that reads as an integer becomes an
// exact 64-bit integer, as another number a double; any other text stays as it is.
Value automatic_value(const Value& raw) {
  if (std::holds_alternative<bool>(raw)) {
    return raw;
  }
  static const ChannelSpec kNumber{};
  if (auto number = convert(kNumber, raw)) {
    return *number;
  }
  return raw;
}

}  // namespace

void SerialDevice::Core::on_frame(const Frame& frame) {
  ++counters_.frames;
  std::string_view line = frame.text();
  if (requests_ && requests_->take_reply(line, frame.type == FG_FRAME_TYPE_REPLY)) {
    return;
  }
  // Without a request queue a REPLY frame answers nothing: it is no reading either.
  if (frame.type == FG_FRAME_TYPE_DATA) {
    publish_fields(line);
  }
}

void SerialDevice::Core::publish_fields(std::string_view line) {
  auto parsed = parser_->parse(line);
  if (!parsed) {
    ++counters_.rejected_lines;
    return;
  }
  const auto wall = std::chrono::system_clock::now();
  const auto now = std::chrono::steady_clock::now();
  for (auto& field : parsed->fields) {
    ChannelState* state = channel_state(field.channel);
    if (state == nullptr) {
      continue;
    }
    std::optional<Value> value;
    std::string unit;
    if (state->channel) {
      auto processed = state->channel->process(field.value, now);
      if (!processed) {
        ++counters_.invalid_values;
        continue;
      }
      if (!*processed) {
        ++counters_.filtered;
        continue;
      }
      value = std::move(**processed);
      unit = state->channel->spec().unit;
    } else {
      value = automatic_value(field.value);
    }
    ++counters_.readings;
    // Once the device was destroyed inside a Sink call, the rest of the line is counted and dropped.
    if (!orphaned_ && sink_.on_reading) {
      sink_.on_reading(Reading{settings_.name, std::move(field.channel), to_reading_value(std::move(*value)),
                               std::move(unit), wall, 0});
    }
  }
}

SerialDevice::Core::ChannelState* SerialDevice::Core::channel_state(const std::string& name) {
  if (auto it = channels_.find(name); it != channels_.end()) {
    return &it->second;
  }
  if (settings_.unlisted == UnlistedPolicy::drop) {
    return nullptr;
  }
  // The name becomes a topic level: the gateway's rule keeps a device from naming its way onto a command
  // or status topic.
  if (channel_name_rule_ && !channel_name_rule_(name)) {
    ++counters_.bad_names;
    return nullptr;
  }
  if (channels_.size() >= kMaxChannels) {
    ++counters_.channel_overflow;
    return nullptr;
  }
  return &channels_[name];
}

}  // namespace fg::devices::serial
