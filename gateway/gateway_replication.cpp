// Gateway's side of the site's replicated register: starting this gateway's member, restoring desired
// outputs before any command is applied, and the MQTT register topic.

#include <algorithm>
#include <chrono>
#include <memory>

#include "gateway/gateway.hpp"
#include "gateway/log.hpp"
#include "gateway/payload.hpp"

namespace fg::gateway {
namespace {

// The outputs whose desired states the register keeps: the channels that take `set`, as each device
// reports them from its config.
struct Output {
  std::string device;
  std::string channel;
};

std::vector<Output> outputs_of(const std::vector<std::unique_ptr<devices::Device>>& devices) {
  std::vector<Output> outputs;
  for (const auto& device : devices) {
    for (const auto& channel : device->channels()) {
      if (channel.settable) {
        outputs.push_back({device->name(), channel.name});
      }
    }
  }
  return outputs;
}

}  // namespace

std::error_code Gateway::start_replication() {
  if (!config_.replication) {
    return {};
  }
  if (loop::wall_clock_floor_is_test_hook()) {
    log(LogLevel::warning, "test hook {} is set: the wall clock counts as set only from {}",
        loop::kClockFloorTestHook, format_rfc3339(loop::wall_clock_floor()));
  }
  if (loop::wall_clock_plausible()) {
    return open_replication();  // as before: a register that cannot open at start stops the start
  }
  // A Pi without an RTC before NTP: a new state directory would take its boot epoch from this clock.
  // Serial and GPIO serve meanwhile; the register starts when the clock is set (a ClockWatch wakes on
  // the set itself, without polling). Waiting is not an error: the unit must not fail for it.
  auto watch = loop::ClockWatch::create(loop_);
  if (!watch) {
    log(LogLevel::error, "replication: cannot watch the wall clock: {}", watch.error().message());
    return watch.error();
  }
  clock_watch_.emplace(std::move(*watch));
  waiting_for_clock_ = true;
  log(LogLevel::notice,
      "replication: waiting for the wall clock to be set (it says {}, before {}); serial and GPIO serve "
      "meanwhile, readings carry no time until then",
      format_rfc3339(std::chrono::system_clock::now()), format_rfc3339(clock_watch_->floor()));
  if (auto ec = clock_watch_->start([this](bool plausible) {
        if (!plausible || stopping_ || !waiting_for_clock_) {
          return;
        }
        waiting_for_clock_ = false;
        log(LogLevel::notice, "replication: the wall clock is set ({}); starting the register",
            format_rfc3339(std::chrono::system_clock::now()));
        // Long after the start, a register that cannot open (its port taken, say) no longer stops the
        // daemon: it goes on serving its devices without the register, and the log says why.
        if (open_replication()) {
          log(LogLevel::error, "replication: serving without the register");
        }
        update_status();
      })) {
    log(LogLevel::error, "replication: cannot watch the wall clock: {}", ec.message());
    return ec;
  }
  return {};
}

std::error_code Gateway::open_replication() {
  auto replication = Replication::open(loop_, *config_.replication);
  if (!replication) {
    log(LogLevel::error, "replication: {}", replication.error());
    desired_while_waiting_.clear();
    return std::make_error_code(std::errc::invalid_argument);
  }
  replication_ = std::move(*replication);
  log(LogLevel::notice, "replication: member {} of a site of {}, listening on {}", config_.replication->node,
      config_.replication->peers.size() + 1, config_.replication->listen);
  // Commands applied while the register waited for the clock are newer than anything it holds.
  for (auto& [key, value] : desired_while_waiting_) {
    replication_->write_desired(key, std::move(value));
  }
  restore_outputs([](const std::string&) { return true; });
  desired_while_waiting_.clear();
  return {};
}

void Gateway::restore_outputs(const std::function<bool(const std::string& device)>& which) {
  auto outputs = outputs_of(devices_);
  std::erase_if(outputs, [&](const Output& o) {
    // An output commanded while the register waited for the clock keeps the command's state.
    return !which(o.device) ||
           desired_while_waiting_.contains(Replication::desired_key(config_.gateway.id, o.device, o.channel));
  });
  if (outputs.empty()) {
    return;
  }
  const std::uint64_t number = ++last_restore_;
  Restore& restore = restores_.try_emplace(number, loop_).first->second;
  restore.left = outputs.size();
  for (const auto& output : outputs) {
    restoring_[output.device] = number;  // a later restore of a device (a reload again) takes it over
  }
  // Reads go to the quorum, whatever the local replica holds (it may be restoring from a new SD card).
  // Each output is read until it answers or restore_timeout passes; then its device's commands flow again.
  for (const auto& output : outputs) {
    restore_output(number, output.device, output.channel);
  }
  if (auto running = restores_.find(number); running != restores_.end()) {
    running->second.timer.start(config_.replication->restore_timeout, [this, number] {
      Restore& late = restores_.at(number);
      log(LogLevel::warning,
          "replication: desired states of {} output(s) not restored within {} ms; applying commands "
          "without them",
          late.left, config_.replication->restore_timeout.count());
      late.failed += late.left;
      outputs_restored(number);
    });
  }
}

void Gateway::restore_output(std::uint64_t number, const std::string& device_name,
                             const std::string& channel) {
  std::string key = Replication::desired_key(config_.gateway.id, device_name, channel);
  replication_->read(
      key, [this, number, device_name, channel, key](const quorum::OpResult<quorum::Versioned>& r) {
        auto running = restores_.find(number);
        if (running == restores_.end()) {
          return;  // restore_timeout passed: this answer comes too late to be applied first
        }
        Restore& restore = running->second;
        if (!r) {
          restore_output(number, device_name, channel);  // no quorum yet (a site starting): ask again
          return;
        }
        if (r->tag.is_zero()) {
          ++restore.missing;
        } else if (devices::Device* device = find_device(device_name); device != nullptr) {
          if (auto ec = device->accept(devices::Command{devices::CommandKind::set, channel, r->value})) {
            log(LogLevel::warning, "{}: restoring {} = {} failed: {}", device_name, channel, r->value,
                ec.message());
            ++restore.failed;
          } else {
            log(LogLevel::info, "{}: restored {} = {} from the register", device_name, channel, r->value);
            ++restore.restored;
            // A value that the device resolved to another state (a "toggle" kept by an older fieldgate) is
            // kept as that state, so the next restore sets the same level.
            if (std::string state = device->desired_state(channel); !state.empty() && state != r->value) {
              replication_->write_desired(key, std::move(state));
            }
          }
        }
        if (--restore.left == 0) {
          outputs_restored(number);
        }
      });
}

void Gateway::outputs_restored(std::uint64_t number) {
  // Its timer goes with it, also from inside the timer's own callback (loop::Timer allows that).
  auto ended = restores_.extract(number);
  const Restore& restore = ended.mapped();
  std::string devices;
  for (auto it = restoring_.begin(); it != restoring_.end();) {
    if (it->second != number) {
      ++it;
      continue;
    }
    devices += (devices.empty() ? "" : ", ") + it->first;
    it = restoring_.erase(it);
  }
  // The held commands of the devices released here, in the order they came; the others stay held.
  std::deque<HeldCommand> released;
  std::deque<HeldCommand> still_held;
  for (auto& held : held_commands_) {
    (restoring_.contains(held.device) ? still_held : released).push_back(std::move(held));
  }
  held_commands_ = std::move(still_held);
  log(LogLevel::notice,
      "replication: outputs restored from the register for {}: {} set, {} never set, {} failed; {} "
      "command(s) held meanwhile",
      devices.empty() ? std::string("devices that a later reload restores again") : devices, restore.restored,
      restore.missing, restore.failed, released.size());
  for (const auto& held : released) {
    apply_command(held.topic, held.payload);
  }
}

// A `set` or a `pulse` was taken: the state the device resolved it to (a toggle's level, the level a pulse
// ends at) is the channel's desired state, for the register (or for when it opens, while it waits for the
// clock). Only a channel the config lists as settable is kept: the restore reads exactly those, so a `set`
// on a serial channel without a [serial.channels.X] table is written to the port but not kept for a restore
// it would never get.
void Gateway::keep_desired(const devices::Device& device, const std::string& channel) {
  const auto channels = device.channels();
  const bool restorable = std::any_of(channels.begin(), channels.end(), [&](const devices::ChannelInfo& c) {
    return c.settable && c.name == channel;
  });
  std::string state = restorable ? device.desired_state(channel) : std::string();
  if (state.empty()) {
    return;
  }
  std::string key = Replication::desired_key(config_.gateway.id, device.name(), channel);
  if (replication_) {
    replication_->write_desired(key, std::move(state));
  } else if (waiting_for_clock_) {
    desired_while_waiting_[std::move(key)] = std::move(state);
  }
}

void Gateway::on_register_get(const std::string& key, std::string_view request) {
  if (!replication_) {
    if (waiting_for_clock_ && session_ && !stopping_) {
      nlohmann::json answer{{"key", key},
                            {"request", std::string(request)},
                            {"ok", false},
                            {"error", "the register waits for the wall clock to be set"},
                            {"time", format_rfc3339(std::chrono::system_clock::now())}};
      session_->publish(topics_.register_value(key),
                        answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        mqtt::Qos::at_least_once, false);
    }
    return;
  }
  replication_->read(
      key, [this, key, request = std::string(request)](const quorum::OpResult<quorum::Versioned>& r) {
        if (!session_ || stopping_) {
          return;
        }
        nlohmann::json answer{{"key", key}, {"request", request}, {"ok", r.has_value()}};
        if (!r) {
          answer["error"] = r.error().message();
        } else if (r->tag.is_zero()) {
          answer["value"] = nullptr;
        } else {
          answer["value"] = r->value;
          answer["tag"] = Replication::tag_json(r->tag);
        }
        answer["time"] = format_rfc3339(std::chrono::system_clock::now());
        session_->publish(topics_.register_value(key),
                          answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                          mqtt::Qos::at_least_once, false);
      });
}

}  // namespace fg::gateway
