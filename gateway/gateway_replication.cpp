// Gateway's side of the site's replicated register: starting this gateway's member, restoring desired
// outputs before any command is applied, and the MQTT register topic.

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
  restore_outputs();
  desired_while_waiting_.clear();
  return {};
}

void Gateway::restore_outputs() {
  auto outputs = outputs_of(devices_);
  // An output commanded while the register waited for the clock keeps the command's state.
  std::erase_if(outputs, [this](const Output& o) {
    return desired_while_waiting_.contains(Replication::desired_key(config_.gateway.id, o.device, o.channel));
  });
  if (outputs.empty()) {
    return;
  }
  outputs_ready_ = false;
  // Reads go to the quorum, whatever the local replica holds (it may be restoring from a new SD card).
  // Each output is read until it answers or restore_timeout passes; then commands flow again.
  struct Progress {
    std::size_t left;
    std::size_t restored = 0, missing = 0, failed = 0;
  };
  auto progress = std::make_shared<Progress>(Progress{outputs.size()});
  auto read_one = std::make_shared<std::function<void(Output)>>();
  std::weak_ptr<std::function<void(Output)>> weak_read = read_one;
  *read_one = [this, progress, weak_read](Output output) {
    std::string key = Replication::desired_key(config_.gateway.id, output.device, output.channel);
    replication_->read(
        key, [this, progress, weak_read, output](const quorum::OpResult<quorum::Versioned>& r) {
          if (outputs_ready_) {
            return;  // restore_timeout passed: this answer comes too late to be applied first
          }
          if (!r) {
            auto retry = weak_read.lock();
            if (retry) {
              (*retry)(output);  // no quorum yet (a site starting up): ask again until restore_timeout
              return;
            }
            ++progress->failed;
          } else if (r->tag.is_zero()) {
            ++progress->missing;
          } else if (devices::Device* device = find_device(output.device); device != nullptr) {
            auto ec = device->accept(devices::Command{devices::CommandKind::set, output.channel, r->value});
            if (ec) {
              log(LogLevel::warning, "{}: restoring {} = {} failed: {}", output.device, output.channel,
                  r->value, ec.message());
              ++progress->failed;
            } else {
              log(LogLevel::info, "{}: restored {} = {} from the register", output.device, output.channel,
                  r->value);
              ++progress->restored;
            }
          }
          if (--progress->left == 0) {
            outputs_restored(progress->restored, progress->missing, progress->failed);
          }
        });
  };
  for (const auto& output : outputs) {
    (*read_one)(output);
  }
  restore_timer_.start(config_.replication->restore_timeout, [this, progress, read_one] {
    if (!outputs_ready_) {
      log(LogLevel::warning,
          "replication: desired states of {} output(s) not restored within {} ms; applying "
          "commands without them",
          progress->left, config_.replication->restore_timeout.count());
      outputs_restored(progress->restored, progress->missing, progress->failed + progress->left);
    }
  });
}

void Gateway::outputs_restored(std::size_t restored, std::size_t missing, std::size_t failed) {
  outputs_ready_ = true;
  restore_timer_.stop();
  log(LogLevel::notice,
      "replication: outputs restored from the register: {} set, {} never set, {} failed; {} "
      "command(s) held meanwhile",
      restored, missing, failed, held_commands_.size());
  auto held = std::move(held_commands_);
  held_commands_.clear();
  for (const auto& [topic, payload] : held) {
    apply_command(topic, payload);
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
