// [mqtt] and [mqtt.tls]: the MQTT session's own settings (mqtt::Options), and the gateway's topic prefix
// and how it publishes readings.

#include <optional>
#include <string>
#include <utility>

#include "gateway/config/duration.hpp"
#include "gateway/config/sections.hpp"

namespace fg::gateway::config_detail {
namespace {

void read_tls(TableReader& table, mqtt::TlsOptions& out) {
  if (!table.has("ca_file")) {
    table.missing("ca_file", "required when [mqtt.tls] is present");
  } else if (auto ca = table.string("ca_file")) {
    if (ca->empty()) {
      table.error("ca_file", "must not be empty");
    }
    out.ca_file = *ca;
  }
  if (auto cert = table.string("cert_file")) {
    out.cert_file = *cert;
  }
  if (auto key = table.string("key_file")) {
    out.key_file = *key;
  }
  if (!out.cert_file.empty() && out.key_file.empty() && !table.has("key_file")) {
    table.missing("key_file", "required when cert_file is set");
  } else if (!out.cert_file.empty() && out.key_file.empty()) {
    table.error("key_file", "must not be empty when cert_file is set");
  }
  if (!out.key_file.empty() && out.cert_file.empty() && !table.has("cert_file")) {
    table.missing("cert_file", "required when key_file is set");
  } else if (!out.key_file.empty() && out.cert_file.empty()) {
    table.error("cert_file", "must not be empty when key_file is set");
  }
  if (auto insecure = table.boolean("insecure")) {
    out.insecure = *insecure;
  }
}

}  // namespace

std::optional<std::string> read_topic_prefix(TableReader& table) {
  auto prefix = table.string("prefix");
  if (!prefix) {
    return std::nullopt;
  }
  if (prefix->empty()) {
    table.error("prefix", "must not be empty");
  } else if (prefix->find_first_of("+#") != std::string::npos) {
    table.error("prefix", "must not contain the wildcards + or #, got " + quote(*prefix));
  } else if (prefix->front() == '/' || prefix->back() == '/') {
    table.error("prefix", "must not start or end with /, got " + quote(*prefix));
  } else {
    return prefix;
  }
  return std::nullopt;
}

namespace {

// "64MiB", "512KiB", "1GiB" or a number of bytes ("4096", "4096B").
std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > 12) {
    return std::nullopt;
  }
  std::uint64_t value = std::stoull(std::string(text.substr(0, digits)));
  const std::string_view unit = text.substr(digits);
  const std::pair<std::string_view, std::uint64_t> units[] = {
      {"", 1}, {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
  for (const auto& [name, factor] : units) {
    if (unit == name) {
      return value * factor;
    }
  }
  return std::nullopt;
}

// The disk spool (issue 12): [mqtt] spool, spool_sync, spool_mode, spool_max.
void read_spool(TableReader& table, mqtt::SpoolSettings& out) {
  if (auto enabled = table.boolean("spool")) {
    out.enabled = *enabled;
  }
  if (auto sync = table.duration("spool_sync", DurationBounds{.max = std::chrono::minutes(10)})) {
    out.sync = *sync;
  }
  if (auto mode = table.choice<mqtt::SpoolMode>(
          "spool_mode", {{"always", mqtt::SpoolMode::always}, {"outage", mqtt::SpoolMode::outage}})) {
    out.mode = *mode;
  }
  if (auto max = table.string("spool_max")) {
    auto bytes = parse_size(*max);
    // Two segments (1 MiB each) at least: the one being written and one to drop when full.
    if (!bytes) {
      table.error("spool_max",
                  "expected a size such as \"64MiB\", \"512KiB\" or \"1GiB\", got " + quote(*max));
    } else if (*bytes < (2ull << 20)) {
      table.error("spool_max", "must be at least \"2MiB\", got " + quote(*max));
    } else {
      out.max_bytes = *bytes;
    }
  }
}

}  // namespace

void read_mqtt(TableReader& table, MqttSection& section) {
  mqtt::Options& out = section.session;
  if (auto host = table.string("host")) {
    if (host->empty()) {
      table.error("host", "must not be empty");
    }
    out.host = *host;
  }
  if (auto port = table.integer("port", 1, 65535)) {
    out.port = static_cast<std::uint16_t>(*port);
  }
  if (auto client_id = table.string("client_id")) {
    out.client_id = *client_id;
  }
  if (auto keepalive = table.duration(
          "keepalive", DurationBounds{.min = std::chrono::seconds(5), .max = std::chrono::hours(1)})) {
    // MQTT carries the keep-alive in whole seconds.
    if (keepalive->count() % 1000 != 0) {
      table.error("keepalive", "must be a whole number of seconds, got " + format_duration(*keepalive));
    } else {
      out.keepalive = std::chrono::duration_cast<std::chrono::seconds>(*keepalive);
    }
  }
  if (auto username = table.string("username")) {
    out.username = *username;
  }
  if (auto password_file = table.string("password_file")) {
    out.password_file = *password_file;
  }
  if (auto protocol = table.choice<mqtt::Protocol>(
          "protocol", {{"3.1.1", mqtt::Protocol::v311}, {"5", mqtt::Protocol::v5}})) {
    out.protocol = *protocol;
  }
  if (auto clean = table.boolean("clean_session")) {
    out.clean_session = *clean;
    // libmosquitto connects without CONNECT properties, so no session expiry interval is sent, and an
    // MQTT 5 broker ends the session with the connection: the setting would promise what it cannot keep.
    if (!*clean && out.protocol == mqtt::Protocol::v5) {
      table.error("clean_session",
                  "false needs protocol \"3.1.1\" (with MQTT 5 no session expiry is sent, "
                  "so the broker would not keep the session)");
    }
  }
  // MQTT 3.1.1 (section 3.1.2.9) allows a password only together with a user name.
  if (!out.password_file.empty() && out.username.empty() && out.protocol == mqtt::Protocol::v311) {
    table.error("password_file", "needs a username with protocol \"3.1.1\"");
  }
  if (auto prefix = read_topic_prefix(table)) {
    section.prefix = *prefix;
  }
  if (auto qos = table.integer("qos", 0, 2)) {
    section.qos = static_cast<std::uint8_t>(*qos);
  }
  if (auto retain = table.boolean("retain")) {
    section.retain = *retain;
  }
  if (auto interval = table.duration("metrics_interval", DurationBounds{})) {
    if (interval->count() != 0 && *interval < std::chrono::seconds(1)) {
      table.error("metrics_interval", "must be 0s (off) or at least 1s, got " + format_duration(*interval));
    } else {
      section.metrics_interval = *interval;
    }
  }
  if (auto outbox = table.integer("outbox", 0)) {
    out.outbox_limit = static_cast<std::size_t>(*outbox);
  }
  const auto reconnect_min = table.duration("reconnect_min", DurationBounds{.positive = true});
  const auto reconnect_max = table.duration("reconnect_max", DurationBounds{.positive = true});
  mqtt::ReconnectOptions& reconnect = out.reconnect;
  if (reconnect_min) {
    reconnect.initial = *reconnect_min;
  }
  if (reconnect_max) {
    reconnect.max = *reconnect_max;
  }
  if ((reconnect_min || reconnect_max) && reconnect.initial > reconnect.max) {
    const std::string_view blamed = reconnect_min ? "reconnect_min" : "reconnect_max";
    table.error(blamed, "reconnect_min (" + format_duration(reconnect.initial) +
                            ") must not be more than reconnect_max (" + format_duration(reconnect.max) + ")");
  }
  read_spool(table, out.spool);
  if (table.has("tls")) {
    if (auto tls = table.subtable("tls")) {
      out.tls.emplace();
      read_tls(*tls, *out.tls);
      tls->finish();
    }
  }
}

}  // namespace fg::gateway::config_detail
