// GpioDevice: construction, opening the line (and trying again), losing it, the Device interface.
// Inputs are in gpio_device_input.cpp, outputs and PWM in gpio_device_output.cpp.

#include "devices/gpio/gpio_device.hpp"

#include "devices/gpio/gpio_device_core.hpp"
#include "storage/posix_disk.hpp"

namespace fg::devices::gpio {

GpioDevice::Core::Core(loop::Loop& loop, GpioDeviceSettings settings, Sink sink)
    : loop_(loop),
      settings_(std::move(settings)),
      sink_(std::move(sink)),
      frequency_(settings_.pwm.frequency),
      duty_(settings_.pwm.duty),
      retry_timer_(loop),
      debounce_timer_(loop),
      interval_timer_(loop),
      pulse_timer_(loop) {}

std::optional<std::string> GpioDevice::Core::init() {
  if (settings_.mode == Mode::counter) {
    auto disk = storage::PosixDisk::open(settings_.state_dir);
    if (!disk) {
      return "cannot open the state directory " + settings_.state_dir + ": " + disk.error().message();
    }
    CounterStore store(std::make_unique<storage::PosixDisk>(std::move(*disk)), settings_.name);
    auto count = store.load();
    if (!count) {
      // Not overwritten: the store is kept only once its count is known.
      return "cannot read the saved count in " + settings_.state_dir + ": " + count.error().message() +
             " (remove " + settings_.name + ".count to start from 0)";
    }
    store_.emplace(std::move(store));
    count_ = count_at_interval_ = *count;
    interval_timer_.start(
        settings_.input.interval,
        [this] {
          enter([this] {
            save_count();
            publish_count();
          });
        },
        settings_.input.interval);
  }
  try_open();
  return std::nullopt;
}

void GpioDevice::Core::log(Severity severity, std::string_view message) const {
  if (!orphaned_ && sink_.on_log) {
    sink_.on_log(severity, message);
  }
}

void GpioDevice::Core::try_open() {
  std::optional<LineError> failure;
  if (settings_.mode == Mode::pwm) {
    auto pwm = PwmChannel::open(settings_.pwm);
    if (pwm) {
      pwm_.emplace(std::move(*pwm));
    } else {
      failure = std::move(pwm.error());
    }
  } else {
    LineRequest request{settings_.line, settings_.mode == Mode::output,
                        desired_.value_or(settings_.output.initial), settings_.input.debounce,
                        "fieldgate:" + settings_.name};
    auto line = open_line(request);
    if (line) {
      line_ = std::move(*line);
    } else {
      failure = std::move(line.error());
    }
  }
  if (failure) {
    // Logged when the reason changes, not on every attempt: a line missing for a day is one log line.
    if (failure->text != offline_text_) {
      log(Severity::error, failure->text + "; trying again every " +
                               std::to_string(settings_.reopen_interval.count()) + " ms");
    }
    const bool was_unknown = !offline_reason_;
    offline_reason_ = failure->code;
    offline_text_ = failure->text;
    if (was_unknown && !orphaned_ && sink_.on_availability) {
      sink_.on_availability(false, offline_reason_);
    }
    retry_timer_.start(settings_.reopen_interval, [this] { enter([this] { try_open(); }); });
    return;
  }
  opened();
}

void GpioDevice::Core::opened() {
  ++counters_.opens;
  offline_reason_ = {};
  offline_text_.clear();
  log(Severity::notice, (pwm_ ? "PWM " + pwm_->dir() : line_->description()) + " open");
  if (!orphaned_ && sink_.on_availability) {
    sink_.on_availability(true, {});
  }
  if (orphaned_) {
    return;
  }
  if (line_) {
    watch_chip();
  }
  switch (settings_.mode) {
    case Mode::pwm:
      if (auto ec = apply_pwm()) {
        lost(ec, "cannot set PWM " + pwm_->dir() + ": " + ec.message());
      }
      return;
    case Mode::output:
      // The line was requested at the desired level (or the initial one): say so.
      level_ = desired_.value_or(settings_.output.initial);
      publish_level(std::chrono::nanoseconds(0));
      return;
    case Mode::state:
    case Mode::counter:
      break;
  }
  auto level = line_->value();
  if (!level) {
    lost(level.error(), line_->description() + ": cannot read: " + level.error().message());
    return;
  }
  level_ = *level;
  debouncer_.emplace(line_->kernel_debounce() ? std::chrono::milliseconds(0) : settings_.input.debounce, level_);
  last_seqno_ = 0;
  auto poll = loop::Poll::create(loop_, line_->event_fd());
  std::error_code ec = poll ? std::error_code{} : poll.error();
  if (poll) {
    poll_.emplace(std::move(*poll));
    ec = poll_->start(line_->event_kind(),
                      [this](std::error_code status, loop::PollEvents) { enter([this, status] { on_poll(status); }); });
  }
  if (ec) {
    lost(ec, line_->description() + ": cannot watch: " + ec.message());
    return;
  }
  if (settings_.mode == Mode::state) {
    publish_level(std::chrono::nanoseconds(0));
  } else {
    publish_count();
  }
}

void GpioDevice::Core::watch_chip() {
  if (line_->chip_node().empty()) {
    return;
  }
  auto watch = loop::PathWatch::create(
      loop_, line_->chip_node(),
      [this](loop::PathChange change) {
        if (change != loop::PathChange::disappeared && change != loop::PathChange::replaced) {
          return;
        }
        // Not from inside the watch's own callback: lost() destroys the watch.
        retry_timer_.start(std::chrono::milliseconds(0), [this] {
          enter([this] {
            if (line_) {
              lost(std::make_error_code(std::errc::no_such_device), line_->description() + ": the chip went away");
            }
          });
        });
      },
      loop::PathWatch::Scope::existence);
  if (watch) {
    chip_watch_.emplace(std::move(*watch));
  } else {
    log(Severity::warning, "cannot watch " + line_->chip_node() + " (" + watch.error().message() +
                               "): an unplug of the chip will go unnoticed");
  }
}

void GpioDevice::Core::lost(std::error_code why, const std::string& text) {
  ++counters_.losses;
  chip_watch_.reset();
  poll_.reset();
  line_.reset();
  pwm_.reset();
  debounce_timer_.stop();
  pulse_timer_.stop();
  offline_reason_ = why;
  offline_text_ = text;
  log(Severity::error, text + "; trying again every " + std::to_string(settings_.reopen_interval.count()) + " ms");
  if (!orphaned_ && sink_.on_availability) {
    sink_.on_availability(false, why);
  }
  retry_timer_.start(settings_.reopen_interval, [this] { enter([this] { try_open(); }); });
}

void GpioDevice::Core::release() noexcept {
  go_safe();
  save_count();
  orphaned_ = true;
  chip_watch_.reset();
  poll_.reset();
  if (depth_ == 0) {
    delete this;
  }
}

std::vector<ChannelInfo> GpioDevice::Core::channels() const {
  return mode_channels(settings_.mode);
}

std::vector<Counter> GpioDevice::Core::counters() const {
  return {{"edges", counters_.edges},
          {"bounces", counters_.bounces},
          {"kernel_dropped_edges", counters_.kernel_dropped_edges, true},
          {"readings", counters_.readings},
          {"commands", counters_.commands},
          {"refused_commands", counters_.refused_commands, true},
          {"opens", counters_.opens},
          {"losses", counters_.losses}};
}

// --- GpioDevice ---

std::expected<std::unique_ptr<GpioDevice>, std::string> GpioDevice::create(loop::Loop& loop,
                                                                           GpioDeviceSettings settings, Sink sink,
                                                                           ChannelNameRule) {
  // The channel names are fixed (gpio_settings.hpp) and none is one the topic layout reserves.
  auto* core = new Core(loop, std::move(settings), std::move(sink));
  std::unique_ptr<GpioDevice> device(new GpioDevice(core));
  std::optional<std::string> error;
  core->enter([&] { error = core->init(); });
  if (error) {
    return std::unexpected(std::move(*error));
  }
  return device;
}

GpioDevice::~GpioDevice() {
  core_->release();
}

const std::string& GpioDevice::name() const noexcept {
  return core_->settings().name;
}

bool GpioDevice::online() const noexcept {
  return core_->online();
}

std::error_code GpioDevice::offline_reason() const noexcept {
  return core_->offline_reason();
}

std::error_code GpioDevice::accept(const Command& command) {
  std::error_code ec;
  core_->enter([&] { ec = core_->accept(command); });
  return ec;
}

std::string GpioDevice::desired_state(std::string_view channel) const {
  return core_->desired_state(channel);
}

void GpioDevice::pause_input(bool paused) {
  core_->enter([&] { core_->pause_input(paused); });
}

std::vector<ChannelInfo> GpioDevice::channels() const {
  return core_->channels();
}

std::vector<Counter> GpioDevice::counters() const {
  return core_->counters();
}

std::vector<ChannelInfo> mode_channels(Mode mode) {
  using Kind = ChannelInfo::Kind;
  const auto info = [](std::string name, Kind kind, std::string unit, bool settable = false) {
    ChannelInfo channel;
    channel.name = std::move(name);
    channel.kind = kind;
    channel.unit = std::move(unit);
    channel.settable = settable;
    return channel;
  };
  switch (mode) {
    case Mode::state:
      return {info("state", Kind::boolean, "")};
    case Mode::counter: {
      std::vector<ChannelInfo> channels{info("count", Kind::number, ""), info("rate", Kind::number, "1/min")};
      channels[0].counter = true;
      return channels;
    }
    case Mode::output: {
      std::vector<ChannelInfo> channels{info("state", Kind::boolean, "", true)};
      channels[0].pulse = true;
      return channels;
    }
    case Mode::pwm:
      return {info("duty", Kind::number, "%", true), info("frequency", Kind::number, "Hz", true)};
  }
  return {};
}

}  // namespace fg::devices::gpio
