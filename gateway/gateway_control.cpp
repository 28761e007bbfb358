// Gateway's side of the local control socket (docs/control-socket.md): status, and get / put on the site's
// replicated register.

#include "gateway/control/status.hpp"
#include "gateway/gateway.hpp"
#include "gateway/log.hpp"
#include "gateway/version.hpp"
#include "quorum/error.hpp"

namespace fg::gateway {

void Gateway::start_control_socket() {
  const std::string& path = config_.control.socket;
  if (path.empty()) {
    return;
  }
  auto server = ControlServer::open(loop_, path,
                                    [this](const nlohmann::json& request, ControlServer::Responder respond) {
                                      on_control(request, std::move(respond));
                                    });
  if (!server) {
    // The daemon serves without it: devices and MQTT do not depend on the control socket.
    log(LogLevel::warning, "control socket {}: {}; fieldgate status/get/put will not reach this daemon", path,
        server.error().message());
    return;
  }
  control_.emplace(std::move(*server));
}

void Gateway::on_control(const nlohmann::json& request, ControlServer::Responder respond) {
  const std::string op = request.value("op", "");
  if (op == "status") {
    respond(nlohmann::json{{"status", status_json()}});
    return;
  }
  if (op == "reload") {
    auto result = reload();
    if (result.applied) {
      respond(nlohmann::json{{"summary", result.summary}, {"errors", result.errors}});
    } else {
      std::string errors;
      for (const auto& line : result.errors) {
        errors += (errors.empty() ? "" : "\n") + line;
      }
      respond.fail(errors, "reload_refused");
    }
    return;
  }
  if (op != "get" && op != "put") {
    respond.fail("unknown op", "unknown_op");
    return;
  }
  if (!replication_ && waiting_for_clock_) {
    respond.fail("the register waits for the wall clock to be set: try again after NTP has set it",
                 "clock_unset");
    return;
  }
  if (!replication_) {
    respond.fail("this gateway has no [replication] section: there is no register to " + op, "no_register");
    return;
  }
  auto key = request.find("key");
  if (key == request.end() || !key->is_string()) {
    respond.fail("\"key\" must be a string", "bad_request");
    return;
  }
  if (op == "get") {
    replication_->read(key->get<std::string>(), [respond](quorum::OpResult<quorum::Versioned> r) {
      if (!r) {
        respond.fail(r.error().message(), quorum::code_name(r.error().code));
      } else if (r->tag.is_zero()) {
        respond(nlohmann::json{{"value", nullptr}});
      } else {
        respond(nlohmann::json{{"value", r->value}, {"tag", Replication::tag_json(r->tag)}});
      }
    });
    return;
  }
  auto value = request.find("value");
  if (value == request.end() || !value->is_string()) {
    respond.fail("\"value\" must be a string", "bad_request");
    return;
  }
  replication_->write(key->get<std::string>(), value->get<std::string>(),
                      [respond](quorum::OpResult<quorum::Tag> r) {
                        if (!r) {
                          respond.fail(r.error().message(), quorum::code_name(r.error().code));
                        } else {
                          respond(nlohmann::json{{"tag", Replication::tag_json(*r)}});
                        }
                      });
}

nlohmann::json Gateway::status_json() const {
  Status status;
  status.gateway = config_.gateway.id;
  status.broker = config_.mqtt.session.host + ":" + std::to_string(config_.mqtt.session.port);
  status.connected = session_ && session_->state() == mqtt::State::connected;
  status.version = kVersion;
  status.uptime_s = static_cast<std::uint64_t>((loop_.now() - started_at_).count() / 1000);
  status.readings_per_min = reading_rate_.per_minute();
  std::vector<DropWatch::Sample> drops;
  collect_drops(drops);
  for (const auto& drop : drops) {
    status.dropped += drop.value;
  }
  if (session_) {
    const auto& m = session_->counters();
    status.mqtt = {m.published, m.acknowledged, m.dropped, m.reconnects, session_->outbox_size()};
  }
  for (const auto& device : devices_) {
    DeviceStatus& d = status.devices.emplace_back();
    d.name = device->name();
    d.online = device->online();
    if (const auto route = routes_.find(device->name()); route != routes_.end()) {
      d.readings = route->second.published;
      for (const auto& [channel, channel_route] : route->second.channels) {
        d.channels.emplace(channel, channel_route.published);
      }
    }
    for (const devices::Counter& counter : device->counters()) {
      d.counters.emplace_back(std::string(counter.name), counter.value);
      if (counter.drop) {
        d.drop_counters.emplace_back(counter.name);
      }
    }
  }
  status.outputs_restored = restoring_.empty();
  status.replication = replication_ ? replication_->status() : nlohmann::json(nullptr);
  if (spool_ && spool_->spool() != nullptr) {
    const SpoolStatus spool = spool_->status();
    status.spool = {
        {"depth", spool.depth},
        {"bytes", spool.bytes},
        {"oldest_age_ms", spool.oldest_age ? nlohmann::json(spool.oldest_age->count()) : nlohmann::json()},
        {"dropped", spool.dropped},
        {"syncs", spool.syncs},
        {"wakeups", spool.wakeups},
        {"epoch", spool_->epoch()}};
  }
  return status_document(status);
}

}  // namespace fg::gateway
