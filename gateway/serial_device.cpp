#include "gateway/serial_device.hpp"

#include <fmt/core.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <nlohmann/json.hpp>

#include "devices/serial/channel_spec.hpp"
#include "devices/serial/cobs_encoder.hpp"
#include "firmware/protocol/frame.h"
#include "gateway/log.hpp"
#include "gateway/topics.hpp"

namespace fg::gateway {
namespace {

namespace ds = devices::serial;

// The config's enums and the port's are cast onto each other; these keep their orders in step.
static_assert(static_cast<int>(Parity::even) == static_cast<int>(ds::Parity::even) &&
              static_cast<int>(Parity::odd) == static_cast<int>(ds::Parity::odd));
static_assert(static_cast<int>(FlowControl::rtscts) == static_cast<int>(ds::FlowControl::rtscts) &&
              static_cast<int>(FlowControl::xonxoff) == static_cast<int>(ds::FlowControl::xonxoff));

ds::PortSettings port_settings(const SerialPortConfig& c) {
  ds::PortSettings s;
  s.path = c.path;
  s.baud = c.baud;
  s.data_bits = c.data_bits;
  s.parity = static_cast<ds::Parity>(c.parity);
  s.stop_bits = c.stop_bits;
  s.flow_control = static_cast<ds::FlowControl>(c.flow_control);
  s.write_queue_limit = c.write_queue;
  s.reopen_interval = c.reopen_interval;
  return s;
}

ReadingValue to_reading_value(const ds::Value& v) {
  return std::visit([](const auto& x) -> ReadingValue { return x; }, v);
}

// An unlisted channel: a number if the text reads as one, else the text as it is.
ds::Value automatic_value(const ds::Value& raw) {
  static const ds::ChannelSpec kNumber{};
  if (auto number = ds::convert(kNumber, raw)) {
    return *number;
  }
  return raw;
}

bool is_cobs(const SerialDeviceConfig& config) {
  return std::holds_alternative<ds::CobsFramerConfig>(config.framer);
}

}  // namespace

std::expected<std::unique_ptr<SerialDevice>, std::string> SerialDevice::create(
    loop::Loop& loop, const SerialDeviceConfig& config, Sink sink) {
  std::unique_ptr<SerialDevice> device(new SerialDevice(loop, config, std::move(sink)));
  SerialDevice* self = device.get();
  // The config loader created both once already, so these only fail on a config it did not check.
  auto framer = ds::Framer::create(config.framer, [self](const ds::Frame& f) { self->on_frame(f); });
  if (!framer) {
    return std::unexpected(framer.error().message);
  }
  self->framer_.emplace(std::move(*framer));
  auto parser = ds::LineParser::create(config.parser);
  if (!parser) {
    return std::unexpected(parser.error().message);
  }
  self->parser_.emplace(std::move(*parser));
  for (const auto& channel : config.channels) {
    auto created = ds::Channel::create(channel.spec);
    if (!created) {
      return std::unexpected(created.error().message);
    }
    self->channels_[channel.spec.name].channel.emplace(std::move(*created));
  }
  if (config.request) {
    self->reply_pattern_ = std::make_unique<re2::RE2>(config.request->reply_pattern, re2::RE2::Quiet);
    if (!self->reply_pattern_->ok()) {
      return std::unexpected("reply_pattern: " + self->reply_pattern_->error());
    }
  }
  auto port =
      ds::SerialPort::create(loop, port_settings(config.port),
                             {[self](std::span<const std::uint8_t> bytes) { self->framer_->feed(bytes); },
                              [self](bool open, std::error_code why) { self->on_port_state(open, why); }});
  if (!port) {
    return std::unexpected("cannot watch " + config.port.path + ": " + port.error().message());
  }
  self->port_.emplace(std::move(*port));
  return device;
}

SerialDevice::SerialDevice(loop::Loop& loop, const SerialDeviceConfig& config, Sink sink)
    : config_(config), sink_(std::move(sink)), request_timer_(loop) {}

SerialDevice::~SerialDevice() = default;

const ds::FramerCounters& SerialDevice::framer_counters() const {
  return framer_->counters();
}
const ds::PortCounters& SerialDevice::port_counters() const {
  return port_->counters();
}

void SerialDevice::on_port_state(bool open, std::error_code why) {
  if (open) {
    // A partial frame from before the unplug would corrupt the first one after it. The port opens from
    // a timer or inotify callback, never from inside feed(), so the framer may be reset here.
    framer_->reset();
    log(LogLevel::info, "{}: {} open", config_.name, config_.port.path);
  } else {
    log(LogLevel::warning, "{}: {}: {}", config_.name, config_.port.path, why.message());
    if (request_in_progress_) {
      finish_request(std::nullopt);
    }
  }
  if (sink_.on_availability) {
    sink_.on_availability(open, why);
  }
}

void SerialDevice::on_frame(const ds::Frame& frame) {
  ++counters_.frames;
  std::string_view line = frame.text();
  if (take_reply(line, frame.type == FG_FRAME_TYPE_REPLY)) {
    return;
  }
  if (frame.type == FG_FRAME_TYPE_DATA) {
    publish_fields(line);
  }
}

void SerialDevice::publish_fields(std::string_view line) {
  auto parsed = parser_->parse(line);
  if (!parsed) {
    ++counters_.rejected_lines;
    return;
  }
  const auto wall = std::chrono::system_clock::now();
  const auto now = std::chrono::steady_clock::now();
  for (const auto& field : parsed->fields) {
    ChannelState* state = channel_state(field.channel);
    if (state == nullptr) {
      continue;
    }
    std::optional<ds::Value> value;
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
    if (sink_.on_reading) {
      sink_.on_reading(Reading{config_.name, field.channel, to_reading_value(*value), std::move(unit), wall,
                               ++state->seq});
    }
  }
}

SerialDevice::ChannelState* SerialDevice::channel_state(const std::string& name) {
  if (auto it = channels_.find(name); it != channels_.end()) {
    return &it->second;
  }
  if (config_.unlisted == UnlistedPolicy::drop) {
    return nullptr;
  }
  // The name becomes a topic level: a device must not name its way onto a command or status topic.
  if (!Topics::is_channel_name(name)) {
    ++counters_.bad_names;
    return nullptr;
  }
  if (channels_.size() >= kMaxChannels) {
    ++counters_.channel_overflow;
    return nullptr;
  }
  return &channels_[name];
}

std::error_code SerialDevice::send(std::string_view bytes) {
  std::error_code ec;
  if (is_cobs(config_)) {
    auto frame = ds::encode_cobs_frame(FG_FRAME_TYPE_COMMAND,
                                       {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    ec = port_->write(frame);
  } else {
    std::string out(bytes);
    out += config_.write_terminator;
    ec = port_->write({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()});
  }
  ec ? ++counters_.commands_refused : ++counters_.commands;
  return ec;
}

// In request mode every command takes its turn in the request queue: a device answers its commands in
// order, so a reply can only be matched to its command if no other command is written in between.
std::error_code SerialDevice::write(std::string_view bytes) {
  return config_.request ? request(bytes) : send(bytes);
}

std::error_code SerialDevice::set(std::string_view channel, std::string_view value) {
  std::string format = "{channel}={value}";
  for (const auto& c : config_.channels) {
    if (c.spec.name == channel) {
      format = c.set_format;
    }
  }
  if (format.empty()) {
    ++counters_.commands_refused;
    return std::make_error_code(std::errc::operation_not_supported);
  }
  try {
    return write(fmt::format(fmt::runtime(format), fmt::arg("channel", channel), fmt::arg("value", value)));
  } catch (const fmt::format_error&) {
    ++counters_.commands_refused;
    return std::make_error_code(std::errc::invalid_argument);
  }
}

std::error_code SerialDevice::request(std::string_view command) {
  if (!config_.request) {
    ++counters_.commands_refused;
    return std::make_error_code(std::errc::operation_not_supported);
  }
  if (requests_.size() > kMaxQueuedRequests) {
    ++counters_.commands_refused;
    return std::make_error_code(std::errc::no_buffer_space);
  }
  requests_.emplace_back(command);
  if (!request_in_progress_) {
    start_next_request();
  }
  return {};
}

void SerialDevice::start_next_request() {
  while (!requests_.empty()) {
    if (auto ec = send(requests_.front())) {
      // Refused (port closed, queue full): answered at once as failed rather than left hanging.
      nlohmann::json reply{{"request", requests_.front()}, {"ok", false}, {"error", ec.message()}};
      requests_.pop_front();
      if (sink_.on_reply) {
        sink_.on_reply(reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      continue;
    }
    request_in_progress_ = true;
    request_timer_.start(config_.request->timeout, [this] { finish_request(std::nullopt); });
    return;
  }
}

bool SerialDevice::take_reply(std::string_view line, bool is_reply_frame) {
  if (!request_in_progress_) {
    return is_reply_frame;  // an unsolicited reply frame is no reading either
  }
  if (!is_reply_frame &&
      !re2::RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *reply_pattern_)) {
    return false;  // readings keep flowing while a request waits
  }
  finish_request(line);
  return true;
}

void SerialDevice::finish_request(std::optional<std::string_view> reply) {
  request_timer_.stop();
  request_in_progress_ = false;
  nlohmann::json json{{"request", requests_.front()}, {"ok", reply.has_value()}};
  if (reply) {
    ++counters_.replies;
    json["reply"] = std::string(*reply);
  } else {
    ++counters_.reply_timeouts;
    json["error"] = online() ? "timeout" : "device offline";
  }
  json["time"] = format_rfc3339(std::chrono::system_clock::now());
  requests_.pop_front();
  if (sink_.on_reply) {
    sink_.on_reply(json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  start_next_request();
}

}  // namespace fg::gateway
