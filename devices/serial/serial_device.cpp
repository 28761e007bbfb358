#include "devices/serial/serial_device.hpp"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "devices/serial/cobs_encoder.hpp"
#include "devices/serial/serial_device_core.hpp"
#include "firmware/protocol/frame.h"

namespace fg::devices::serial {

// ---------------------------------------------------------------------------------------------------------
// SerialDevice: the handle the gateway holds.

std::expected<std::unique_ptr<SerialDevice>, std::string> SerialDevice::create(
    loop::Loop& loop, SerialDeviceSettings settings, Sink sink, ChannelNameRule channel_name_rule) {
  auto* core = new Core(std::move(settings), std::move(sink), std::move(channel_name_rule));
  std::unique_ptr<SerialDevice> device(new SerialDevice(core));
  if (auto error = core->init(loop)) {
    return std::unexpected(std::move(*error));
  }
  return device;
}

SerialDevice::~SerialDevice() {
  core_->release();
}

const std::string& SerialDevice::name() const noexcept {
  return core_->settings().name;
}

bool SerialDevice::online() const noexcept {
  return core_->online();
}

std::error_code SerialDevice::offline_reason() const noexcept {
  return core_->offline_reason();
}

std::error_code SerialDevice::accept(const Command& command) {
  std::error_code ec;
  core_->enter([&] { ec = core_->accept(command); });
  return ec;
}

std::string SerialDevice::desired_state(std::string_view channel) const {
  return core_->desired_state(channel);
}

void SerialDevice::pause_input(bool paused) {
  core_->pause_input(paused);
}

std::vector<ChannelInfo> SerialDevice::channels() const {
  std::vector<ChannelInfo> out;
  for (const auto& channel : core_->settings().channels) {
    ChannelInfo info;
    info.name = channel.spec.name;
    info.kind = channel.spec.kind == ValueKind::boolean ? ChannelInfo::Kind::boolean
                : channel.spec.kind == ValueKind::text  ? ChannelInfo::Kind::text
                                                        : ChannelInfo::Kind::number;
    info.unit = channel.spec.unit;
    info.settable = !channel.set_format.empty();
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<Counter> SerialDevice::counters() const {
  return core_->counters();
}

// ---------------------------------------------------------------------------------------------------------
// Core: building, reaping, commands.

SerialDevice::Core::Core(SerialDeviceSettings settings, Sink sink, ChannelNameRule channel_name_rule)
    : settings_(std::move(settings)),
      sink_(std::move(sink)),
      channel_name_rule_(std::move(channel_name_rule)) {}

std::optional<std::string> SerialDevice::Core::init(loop::Loop& loop) {
  auto framer = Framer::create(settings_.framer, [this](const Frame& f) { on_frame(f); });
  if (!framer) {
    return framer.error().message;
  }
  framer_.emplace(std::move(*framer));
  auto parser = LineParser::create(settings_.parser);
  if (!parser) {
    return parser.error().message;
  }
  parser_.emplace(std::move(*parser));
  for (const auto& channel : settings_.channels) {
    auto created = Channel::create(channel.spec);
    if (!created) {
      return created.error().message;
    }
    channels_[channel.spec.name].channel.emplace(std::move(*created));
  }
  if (settings_.request) {
    RequestQueue::Hooks hooks;
    hooks.send = [this](std::string_view command) { return send(command); };
    hooks.reply = [this](Reply&& reply) {
      if (!orphaned_ && sink_.on_reply) {
        sink_.on_reply(std::move(reply));
      }
    };
    hooks.online = [this] { return online(); };
    hooks.enter = [this](const std::function<void()>& f) { enter(f); };
    auto queue = RequestQueue::create(loop, *settings_.request, std::move(hooks));
    if (!queue) {
      return queue.error();
    }
    requests_ = std::move(*queue);
  }
  SerialPort::Callbacks callbacks{
      [this](std::span<const std::uint8_t> bytes) { enter([&] { framer_->feed(bytes); }); },
      [this](bool open, std::error_code why) { enter([&] { on_port_state(open, why); }); }};
  auto port = SerialPort::create(loop, settings_.port, std::move(callbacks));
  if (!port) {
    return "cannot watch " + settings_.port.path + ": " + port.error().message();
  }
  port_.emplace(std::move(*port));
  return std::nullopt;
}

void SerialDevice::Core::release() noexcept {
  if (depth_ == 0) {
    delete this;
    return;
  }
  // The Sink stays until the Core goes: one of its callbacks may be running now. orphaned_ keeps it from
  // being called again.
  orphaned_ = true;
  if (requests_) {
    requests_->stop();
  }
}

void SerialDevice::Core::log(Severity severity, std::string_view message) const {
  if (!orphaned_ && sink_.on_log) {
    sink_.on_log(severity, message);
  }
}

void SerialDevice::Core::on_port_state(bool open, std::error_code why) {
  offline_reason_ = open ? std::error_code() : why;
  if (open) {
    // A partial frame from before the unplug would corrupt the first one after it. The port opens from
    // a timer or inotify callback, never from inside feed(), so the framer may be reset here.
    framer_->reset();
    log(Severity::info, settings_.port.path + " open");
    apply_desired();
  } else {
    log(Severity::warning, settings_.port.path + ": " + why.message());
    if (requests_) {
      requests_->port_closed();
    }
  }
  if (!orphaned_ && sink_.on_availability) {
    sink_.on_availability(open, why);
  }
}

void SerialDevice::Core::pause_input(bool paused) {
  port_->pause_reading(paused);
}

std::error_code SerialDevice::Core::accept(const Command& command) {
  switch (command.kind) {
    case CommandKind::write:
      return write(command.payload);
    case CommandKind::set:
      return set(command.channel, command.payload);
    case CommandKind::request:
      return request(command.payload);
    case CommandKind::pulse:
      break;
  }
  ++counters_.refused_commands;
  return std::make_error_code(std::errc::operation_not_supported);
}

std::error_code SerialDevice::Core::send(std::string_view bytes) {
  std::error_code ec;
  if (std::holds_alternative<CobsFramerConfig>(settings_.framer)) {
    auto frame = encode_cobs_frame(FG_FRAME_TYPE_COMMAND,
                                   {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    ec = port_->write(frame);
  } else {
    std::string out(bytes);
    out += settings_.write_terminator;
    ec = port_->write({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()});
  }
  ec ? ++counters_.refused_commands : ++counters_.commands;
  return ec;
}

// In request mode every command takes its turn in the request queue (see serial_device.hpp).
std::error_code SerialDevice::Core::write(std::string_view bytes) {
  return requests_ ? request(bytes) : send(bytes);
}

std::error_code SerialDevice::Core::set(std::string_view channel, std::string_view value) {
  std::string format = "{channel}={value}";
  for (const auto& c : settings_.channels) {
    if (c.spec.name == channel) {
      format = c.set_format;
    }
  }
  if (format.empty()) {
    ++counters_.refused_commands;
    return std::make_error_code(std::errc::operation_not_supported);
  }
  std::string text;
  try {
    text = fmt::format(fmt::runtime(format), fmt::arg("channel", channel), fmt::arg("value", value));
  } catch (const fmt::format_error&) {
    ++counters_.refused_commands;
    return std::make_error_code(std::errc::invalid_argument);
  }
  auto known =
      std::find_if(desired_.begin(), desired_.end(), [&](const Desired& d) { return d.channel == channel; });
  if (known != desired_.end()) {
    known->value = value;
    known->text = text;
  } else if (desired_.size() < kMaxChannels) {
    desired_.push_back({std::string(channel), std::string(value), text});
  } else if (!online()) {
    ++counters_.refused_commands;  // no room to keep it for later, and no port to write it to now
    return std::make_error_code(std::errc::no_buffer_space);
  }
  // A desired state is taken while the port is closed too: it is written when the port opens.
  if (!online()) {
    return {};
  }
  return write(text);
}

// The value as it came: a serial device's values are its firmware's, so fieldgate cannot tell an absolute
// one from a relative one (docs/configuration.md says to keep set values absolute).
std::string SerialDevice::Core::desired_state(std::string_view channel) const {
  for (const Desired& d : desired_) {
    if (d.channel == channel) {
      return d.value;
    }
  }
  return {};
}

void SerialDevice::Core::apply_desired() {
  if (desired_.empty()) {
    return;
  }
  std::size_t failed = 0;
  // A copy: a write that finds the port gone again runs on_port_state inside it.
  const auto desired = desired_;
  for (const Desired& d : desired) {
    if (orphaned_ || !online()) {
      return;
    }
    failed += write(d.text) ? 1 : 0;
  }
  log(failed == 0 ? Severity::info : Severity::warning,
      fmt::format("{} desired output state(s) written on open{}", desired.size(),
                  failed == 0 ? "" : fmt::format(", {} refused", failed)));
}

std::error_code SerialDevice::Core::request(std::string_view command) {
  std::error_code ec =
      requests_ ? requests_->push(command) : std::make_error_code(std::errc::operation_not_supported);
  if (ec) {
    ++counters_.refused_commands;
  }
  return ec;
}

// The order is that of the SIGUSR1 log line; the names are part of `fieldgate status` (stable).
std::vector<Counter> SerialDevice::Core::counters() const {
  const SerialCounters& c = counters_;
  const FramerCounters& f = framer_->counters();
  const PortCounters& p = port_->counters();
  const RequestCounters r = requests_ ? requests_->counters() : RequestCounters{};
  return {
      {"bytes_read", p.bytes_read, false},
      {"frames", c.frames, false},
      {"readings", c.readings, false},
      {"rejected_lines", c.rejected_lines, true},
      {"invalid_values", c.invalid_values, true},
      {"filtered", c.filtered, false},  // asked for by the channel's filters: not lost
      {"bad_names", c.bad_names, true},
      {"channel_overflow", c.channel_overflow, true},
      {"dropped_bytes", f.dropped_bytes, true},
      {"overlong", f.overlong, true},
      {"bad_crc", f.bad_crc, true},
      {"commands", c.commands, false},
      {"refused_commands", c.refused_commands, true},
      {"replies", r.replies, false},
      {"reply_timeouts", r.timeouts, true},
      {"bytes_written", p.bytes_written, false},
      {"unsent_bytes", p.bytes_dropped, true},
      {"opens", p.opens, false},
      {"disconnects", p.disconnects, false},
  };
}

}  // namespace fg::devices::serial
