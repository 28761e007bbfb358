#include "gateway/gateway.hpp"

#include <malloc.h>
#include <signal.h>

#include <algorithm>

#include <fmt/core.h>

#include "gateway/devices_factory.hpp"
#include "gateway/log.hpp"

namespace fg::gateway {

// The session's settings from the config, with the retained gateway status: the broker publishes
// "offline" if we vanish, we say "online" on every connect and "offline" ourselves on a clean shutdown.
mqtt::Options Gateway::session_options() const {
  mqtt::Options o = config_.mqtt.session;
  o.will = mqtt::Publication{topics_.gateway_status(), "offline", mqtt::Qos::at_least_once, true};
  o.birth = mqtt::Publication{topics_.gateway_status(), "online", mqtt::Qos::at_least_once, true};
  return o;
}

// libmosquitto's own lines (TLS handshake failures are explained only there) cost a formatted line per
// packet, so they are asked for only at debug level.
void Gateway::follow_log_level() {
  if (log_level() == LogLevel::debug) {
    session_->on_log(
        [](mqtt::LogLevel, std::string_view line) { log(LogLevel::debug, "libmosquitto: {}", line); });
  } else {
    session_->on_log(nullptr);
  }
}

Gateway::Gateway(loop::Loop& loop, Config config)
    : loop_(loop),
      config_(std::move(config)),
      topics_(config_.mqtt.prefix, config_.gateway.id),
      notify_(loop),
      status_timer_(loop),
      metrics_timer_(loop) {}

Gateway::~Gateway() = default;

std::error_code Gateway::start() {
  if (auto ec = open_spool()) {
    return ec;
  }
  started_at_ = loop_.now();
  auto session = mqtt::Session::create(loop_, session_options());
  if (!session) {
    log(LogLevel::error, "mqtt: {}", session.error().message());
    return session.error();
  }
  session_.emplace(std::move(*session));
  if (spool_->spool() != nullptr) {
    session_->use_spool(*spool_->spool());
  }
  session_->on_message([this](const mqtt::Message& m) { on_message(m); });
  session_->on_state([this](const mqtt::StateChange& s) { on_mqtt_state(s); });
  session_->on_drain([this] { pause_inputs(false); });
  follow_log_level();
  for (const auto& filter : topics_.command_filters()) {
    session_->subscribe(filter, mqtt::Qos::at_least_once);
  }
  if (config_.replication) {
    session_->subscribe(topics_.register_get_filter(), mqtt::Qos::at_least_once);
  }

  auto devices = build_devices(loop_, config_, [this](const std::string& device, PayloadForm payload) {
    return make_sink(device, payload);
  });
  if (!devices) {
    log(LogLevel::error, "{}", devices.error());
    return std::make_error_code(std::errc::invalid_argument);
  }
  devices_ = std::move(*devices);
  start_homeassistant();

  if (auto ec = start_replication()) {
    return ec;
  }
  start_control_socket();

  auto signals = loop::SignalFd::create(loop_, {SIGTERM, SIGINT, SIGHUP, SIGUSR1});
  if (!signals) {
    log(LogLevel::error, "signalfd: {}", signals.error().message());
    return signals.error();
  }
  signals_.emplace(std::move(*signals));
  signals_->start([this](const signalfd_siginfo& info) {
    switch (info.ssi_signo) {
      case SIGTERM:
      case SIGINT:
        log(LogLevel::notice, "signal {}: shutting down", static_cast<int>(info.ssi_signo));
        shutdown();
        break;
      case SIGUSR1:
        log_counters();
        break;
      default:
        reload();  // SIGHUP; the result goes to the log
        break;
    }
  });

  if (auto ec = session_->start()) {
    log(LogLevel::error, "mqtt: {}", ec.message());
    return ec;
  }
  status_timer_.start(
      std::chrono::seconds(10), [this] { update_status(); }, std::chrono::seconds(10));
  drop_watch_.emplace(
      loop_, DropWatch::Timing{}, [this](std::vector<DropWatch::Sample>& out) { collect_drops(out); },
      [](const DropEvent& event) {
        log(event.kind == DropEvent::Kind::started ? LogLevel::warning : LogLevel::notice, "{}",
            describe(event));
      });
  drop_watch_->start();
  start_metrics();
  notify_.ready();
  update_status();
  auto say_serving = [this](std::string_view then) {
    log(LogLevel::notice, "fieldgate {} serving {} device(s), broker {}:{}{}", config_.gateway.id,
        devices_.size(), config_.mqtt.session.host, config_.mqtt.session.port, then);
  };
  if (replication_ && !replication_->serving()) {
    // "Serving" only once it is true: a member restoring from its peers answers no register operation
    // and holds its outputs' commands until it has (issue 10).
    log(LogLevel::notice,
        "fieldgate {} started with {} device(s), broker {}:{}; the register is restoring its state from its "
        "peers and serves once it has",
        config_.gateway.id, devices_.size(), config_.mqtt.session.host, config_.mqtt.session.port);
    replication_->on_serving([this, say_serving] {
      say_serving("; the register has restored its state");
      update_status();
    });
  } else {
    say_serving("");
  }
  return {};
}

devices::Device::Sink Gateway::make_sink(const std::string& device, PayloadForm payload) {
  Route& route = routes_[device];
  route.payload = payload;
  devices::Device::Sink sink;
  sink.on_reading = [this, &route](Reading&& r) { publish_reading(route, std::move(r)); };
  sink.on_availability = [this, device](bool, std::error_code) {
    // Not yet in devices_ while it is being built: its status goes out when the broker connects.
    if (auto* found = find_device(device)) {
      publish_device_status(*found);
    }
    update_status();
  };
  sink.on_reply = [this, device](devices::Reply&& reply) {
    session_->publish(topics_.reply(device), reply_payload(reply), mqtt::Qos::at_least_once, false);
  };
  sink.on_log = [device](devices::Severity severity, std::string_view message) {
    log(static_cast<LogLevel>(severity), "{}: {}", device, message);
  };
  return sink;
}

void Gateway::publish_reading(Route& route, Reading&& reading) {
  auto found = route.channels.find(reading.channel);
  if (found == route.channels.end()) {
    std::string topic = topics_.reading(reading.device, reading.channel);
    std::uint64_t* seq = &spool_->seq_counter(topic);
    found = route.channels.emplace(reading.channel, ChannelRoute{std::move(topic), seq}).first;
  }
  ChannelRoute& channel = found->second;
  reading.seq = spool_->next_seq(*channel.seq);
  ++route.published;
  ++channel.published;
  const PayloadForm form = route.payload;
  std::string payload =
      form == PayloadForm::raw ? raw_payload(reading.value) : json_payload(reading, spool_->epoch());
  // The register keeps the JSON form whatever the topic carries.
  std::string replicated;
  if (replication_) {
    replicated = form == PayloadForm::json ? payload : json_payload(reading, spool_->epoch());
  }
  session_->publish(mqtt::Publication{channel.topic, std::move(payload),
                                      static_cast<mqtt::Qos>(config_.mqtt.qos), config_.mqtt.retain});
  spool_->written();
  if (replication_) {
    replication_->offer_reading(Replication::reading_key(config_.gateway.id, reading.device, reading.channel),
                                std::move(replicated));
  }
  if (!inputs_paused_ && session_->backlog() >= kMaxBacklog) {
    pause_inputs(true);
  }
}

void Gateway::pause_inputs(bool paused) {
  if (paused == inputs_paused_) {
    return;
  }
  inputs_paused_ = paused;
  if (!paused) {
    // The overload is over and what it held is freed, but glibc keeps freed heap pages that live
    // data sits above: give them back, or RSS stays at the overload's peak (8.1 MiB against 6.8 after
    // bench_gateway_e2e --user-defaults; issue 12's goal is under 8). Once each time the ports resume.
    ::malloc_trim(0);
  }
  ++flow_control_pauses_;
  for (const auto& device : devices_) {
    device->pause_input(paused);
  }
}

void Gateway::on_message(const mqtt::Message& message) {
  if (discovery_ && discovery_->on_message(message.topic, message.text(), message.retain)) {
    return;
  }
  if (auto key = topics_.parse_register_get(message.topic)) {
    on_register_get(*key, message.text());
    return;
  }
  if (auto command = topics_.parse_command(message.topic); command && restoring_.contains(command->device)) {
    // The device's outputs first take their desired states from the register; newer commands follow, in
    // order.
    if (held_commands_.size() >= kMaxHeldCommands) {
      ++held_commands_dropped_;
      return;
    }
    held_commands_.push_back({command->device, std::string(message.topic), std::string(message.text())});
    return;
  }
  apply_command(message.topic, message.text());
}

void Gateway::apply_command(std::string_view topic, std::string_view payload) {
  auto command = topics_.parse_command(topic);
  if (!command) {
    return;
  }
  devices::Device* device = find_device(command->device);
  if (device == nullptr) {
    log(LogLevel::warning, "command for unknown device {} on {}", command->device, topic);
    return;
  }
  std::error_code ec =
      device->accept(devices::Command{command->kind, command->channel, std::string(payload)});
  if (!ec && (command->kind == devices::CommandKind::set || command->kind == devices::CommandKind::pulse)) {
    keep_desired(*device, command->channel);
  }
  if (ec) {
    log(LogLevel::warning, "{}: command on {} refused: {}", command->device, topic, ec.message());
  }
}

void Gateway::on_mqtt_state(const mqtt::StateChange& change) {
  spool_->on_state(change.state);
  if (change.state == mqtt::State::connected) {
    log(LogLevel::info, "mqtt: connected to {}:{}", config_.mqtt.session.host, config_.mqtt.session.port);
    // A broker without persistence forgets retained messages when it restarts: say them again.
    for (const auto& device : devices_) {
      publish_device_status(*device);
    }
    if (discovery_) {
      discovery_->on_connected();
    }
    publish_metrics();
  } else if (change.state == mqtt::State::disconnected) {
    if (discovery_) {
      discovery_->on_disconnected();
    }
    // The detail says why a TLS handshake failed ("certificate verify failed"); the code alone cannot.
    std::string reason = change.reason.message();
    if (!change.detail.empty()) {
      if (reason.ends_with('.')) {
        reason.pop_back();  // libmosquitto's "A TLS error occurred."
      }
      reason += ": " + change.detail;
    }
    log(LogLevel::warning, "mqtt: {} (next attempt in {} ms)", reason, change.retry_in.count());
  }
  update_status();
}

void Gateway::publish_device_status(const devices::Device& device) {
  if (session_ && !stopping_) {
    session_->publish(topics_.device_status(device.name()), device.online() ? "online" : "offline",
                      mqtt::Qos::at_least_once, true);
  }
}

devices::Device* Gateway::find_device(std::string_view name) {
  for (auto& device : devices_) {
    if (device->name() == name) {
      return device.get();
    }
  }
  return nullptr;
}

void Gateway::update_status() {
  std::size_t open = 0;
  std::uint64_t readings = 0;
  for (const auto& device : devices_) {
    open += device->online() ? 1 : 0;
  }
  for (const auto& [name, route] : routes_) {
    readings += route.published;
  }
  reading_rate_.sample(loop_.now(), readings);
  bool connected = session_ && session_->state() == mqtt::State::connected;
  std::string quorum;
  if (replication_) {
    auto status = replication_->status();
    std::size_t up = 0;
    for (const auto& peer : status["peers"]) {
      up += peer["up"].get<bool>() ? 1 : 0;
    }
    quorum = fmt::format(", replica {} ({}/{} peers up)", status["state"].get<std::string>(), up,
                         status["peers"].size());
  } else if (waiting_for_clock_) {
    quorum = ", replication waits for the wall clock to be set";
  }
  notify_.status(fmt::format("{}/{} ports open, broker {}, {} readings{}", open, devices_.size(),
                             connected ? "connected" : "disconnected", readings, quorum));
}

void Gateway::log_counters() const {
  // "dev: 120 bytes read, 3 frames, ...": every counter of the device, in its order, named in words.
  for (const auto& device : devices_) {
    std::string line;
    for (const devices::Counter& counter : device->counters()) {
      std::string words(counter.name);
      std::replace(words.begin(), words.end(), '_', ' ');
      line += fmt::format("{}{} {}", line.empty() ? "" : ", ", counter.value, words);
    }
    log(LogLevel::notice, "{}: {}", device->name(), line);
  }
  if (session_) {
    const auto& m = session_->counters();
    log(LogLevel::notice,
        "mqtt: {} published, {} acknowledged, {} dropped, {} reconnects, {} received; inputs paused {} times "
        "for a slow broker",
        m.published, m.acknowledged, m.dropped, m.reconnects, m.received, flow_control_pauses_ / 2);
  }
}

// Every counter of something lost that can climb for a long time, for the DropWatch: the devices' drop
// counters, the session's outbox overflow and refusals, commands held for the register, and the
// replication's refused datagrams and oversized readings.
void Gateway::collect_drops(std::vector<DropWatch::Sample>& out) const {
  for (const auto& device : devices_) {
    for (const devices::Counter& counter : device->counters()) {
      if (counter.drop) {
        std::string words(counter.name);
        std::replace(words.begin(), words.end(), '_', ' ');
        out.push_back({device->name(), std::move(words), counter.value});
      }
    }
  }
  if (session_) {
    const auto& m = session_->counters();
    out.push_back({"mqtt", "messages from the full outbox", m.dropped});
    out.push_back({"mqtt", "messages the client library refused", m.rejected});
  }
  out.push_back({"gateway", "commands held for the register", held_commands_dropped_});
  if (replication_) {
    const auto datagrams = replication_->status()["datagrams"];
    std::uint64_t refused = datagrams["malformed"].get<std::uint64_t>();
    for (const auto& [reason, count] : datagrams["dropped"].items()) {
      refused += reason == "replayed" ? 0 : count.get<std::uint64_t>();
    }
    out.push_back({"replication", "received datagrams", refused});
    // Replays by peer: a member whose boot epoch went back (a new SD card while its clock was behind) is
    // shut out until it moves past what its peers remember; each episode is logged (issue 10).
    for (const auto& peer : config_.replication->peers) {
      out.push_back({"replication", fmt::format("datagrams of peer {} as replays", peer.node),
                     replication_->replayed_from(peer.node)});
    }
    out.push_back({"replication", "datagrams to send", datagrams["send_errors"].get<std::uint64_t>()});
    out.push_back({"replication", "readings too large", replication_->counters().readings_too_large});
  }
}

void Gateway::shutdown() {
  if (stopping_) {
    return;
  }
  // The drops still going on end here: their counts go to the log before the devices do.
  if (drop_watch_) {
    drop_watch_->stop();
  }
  notify_.stopping();
  // Devices say offline while the session can still carry it; then the ports close.
  for (const auto& device : devices_) {
    if (session_) {
      session_->publish(topics_.device_status(device->name()), "offline", mqtt::Qos::at_least_once, true);
    }
  }
  stopping_ = true;
  devices_.clear();
  status_timer_.stop();
  metrics_timer_.close();
  restores_.clear();
  if (control_) {
    control_->close();
  }
  if (replication_) {
    replication_->close();
  }
  if (clock_watch_) {
    clock_watch_->stop();
  }
  auto finish = [this] {
    // Nothing is dropped without saying so (issue 9): what the broker never got is gone with the process.
    if (auto lost = session_ ? session_->discarded() : mqtt::QosCounts{}; lost.total() > 0) {
      log(LogLevel::warning,
          "stopping: {} messages not delivered to the broker are discarded (QoS 0: {}, QoS 1: {}{})",
          lost.total(), lost.qos0, lost.qos1, lost.qos2 > 0 ? fmt::format(", QoS 2: {}", lost.qos2) : "");
    }
    if (spool_) {
      spool_->stopped();
    }
    signals_.reset();
    notify_.close();
    status_timer_.close();
    log(LogLevel::notice, "stopped");
  };
  if (!session_) {
    finish();
    return;
  }
  auto ec = session_->shutdown(
      kDrainTimeout, mqtt::Publication{topics_.gateway_status(), "offline", mqtt::Qos::at_least_once, true},
      finish);
  if (ec) {
    finish();
  }
}

}  // namespace fg::gateway
