// Gateway's side of the site's replicated register: starting this gateway's member, restoring desired
// outputs before any command is applied, and the MQTT register topic.

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
  auto replication = Replication::open(loop_, *config_.replication);
  if (!replication) {
    log(LogLevel::error, "replication: {}", replication.error());
    return std::make_error_code(std::errc::invalid_argument);
  }
  replication_ = std::move(*replication);
  log(LogLevel::notice, "replication: member {} of a site of {}, listening on {}", config_.replication->node,
      config_.replication->peers.size() + 1, config_.replication->listen);
  restore_outputs();
  return {};
}

void Gateway::restore_outputs() {
  auto outputs = outputs_of(devices_);
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
