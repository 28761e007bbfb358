#include "gateway/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <map>
#include <system_error>
#include <utility>

#include "gateway/config_reader.hpp"
#include "gateway/config_replication.hpp"
#include "gateway/config_serial.hpp"
#include "gateway/duration.hpp"

namespace fg::gateway {

using config_detail::DurationBounds;
using config_detail::IssueSink;
using config_detail::quote;
using config_detail::TableReader;

std::string ConfigIssue::format() const {
  std::string out = file;
  if (line != 0) {
    out += ':' + std::to_string(line) + ':' + std::to_string(column);
  }
  out += ": ";
  if (!key.empty()) {
    out += key + ": ";
  }
  out += message;
  return out;
}

std::string sanitize_gateway_id(std::string_view host_name) {
  std::string id(host_name.substr(0, host_name.find('.')));
  for (char& c : id) {
    if (!config_detail::is_identifier(std::string_view(&c, 1))) {
      c = '-';
    }
  }
  return id.empty() ? std::string("fieldgate") : id;
}

std::string default_gateway_id() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) {
    name[0] = '\0';
  }
  return sanitize_gateway_id(name);
}

namespace {

void read_gateway(TableReader& table, GatewaySection& out) {
  if (auto id = table.string("id")) {
    if (config_detail::is_identifier(*id)) {
      out.id = *id;
    } else {
      table.error("id", "must match [A-Za-z0-9_-]+ (one MQTT topic level), got " + quote(*id));
    }
  }
  if (auto level = table.choice<LogLevel>("log_level", {{"error", LogLevel::error},
                                                        {"warning", LogLevel::warning},
                                                        {"notice", LogLevel::notice},
                                                        {"info", LogLevel::info},
                                                        {"debug", LogLevel::debug}})) {
    out.log_level = *level;
  }
}

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

void read_prefix(TableReader& table, MqttSection& out) {
  auto prefix = table.string("prefix");
  if (!prefix) {
    return;
  }
  if (prefix->empty()) {
    table.error("prefix", "must not be empty");
  } else if (prefix->find_first_of("+#") != std::string::npos) {
    table.error("prefix", "must not contain the wildcards + or #, got " + quote(*prefix));
  } else if (prefix->front() == '/' || prefix->back() == '/') {
    table.error("prefix", "must not start or end with /, got " + quote(*prefix));
  } else {
    out.prefix = *prefix;
  }
}

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
  // MQTT 3.1.1 (section 3.1.2.9) allows a password only together with a user name.
  if (!out.password_file.empty() && out.username.empty() && out.protocol == mqtt::Protocol::v311) {
    table.error("password_file", "needs a username with protocol \"3.1.1\"");
  }
  read_prefix(table, section);
  if (auto qos = table.integer("qos", 0, 2)) {
    section.qos = static_cast<std::uint8_t>(*qos);
  }
  if (auto retain = table.boolean("retain")) {
    section.retain = *retain;
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
  if (table.has("tls")) {
    if (auto tls = table.subtable("tls")) {
      out.tls.emplace();
      read_tls(*tls, *out.tls);
      tls->finish();
    }
  }
}

void read_serial_array(TableReader& root, std::vector<SerialSection>& out) {
  const toml::node* node = root.find("serial");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    root.error("serial", "expected an array of tables ([[serial]]), got " +
                             std::string(config_detail::type_name(node->type())));
    return;
  }
  // Device names must be unique: name -> index of the first device that has it.
  std::map<std::string, std::size_t, std::less<>> names;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string path = "serial[" + std::to_string(i) + "]";
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      root.issues().add(element.source().begin, path,
                        "expected a table, got " + std::string(config_detail::type_name(element.type())));
      continue;
    }
    TableReader reader(*table, path, root.issues());
    SerialSection& section = out.emplace_back();
    read_serial_device(reader, section);
    reader.finish();
    const std::string& name = section.device.name;
    if (!name.empty()) {
      const auto [first, inserted] = names.emplace(name, i);
      if (!inserted) {
        reader.error("name", "duplicate device name " + quote(name) + ", already used by serial[" +
                                 std::to_string(first->second) + "]");
      }
    }
  }
}

}  // namespace

std::expected<Config, std::vector<ConfigIssue>> parse_config(std::string_view toml_text,
                                                             const std::string& source_name) {
  IssueSink issues(source_name);
  toml::table document;
  try {
    document = toml::parse(toml_text, std::string_view(source_name));
  } catch (const toml::parse_error& error) {
    issues.add(error.source().begin, "", std::string(error.description()));
    return std::unexpected(issues.take());
  }

  Config config;
  config.source = source_name;
  TableReader root(document, "", issues);
  if (root.has("gateway")) {
    if (auto gateway = root.subtable("gateway")) {
      read_gateway(*gateway, config.gateway);
      gateway->finish();
    }
  }
  // Still empty when not set, or when set wrong (then there is an issue, and config is not returned).
  if (config.gateway.id.empty()) {
    config.gateway.id = default_gateway_id();
  }
  if (root.has("mqtt")) {
    if (auto mqtt = root.subtable("mqtt")) {
      read_mqtt(*mqtt, config.mqtt);
      mqtt->finish();
    }
  }
  if (config.mqtt.session.client_id.empty()) {
    config.mqtt.session.client_id = "fieldgate-" + config.gateway.id;
  }
  read_serial_array(root, config.serial);
  if (root.has("replication")) {
    if (auto replication = root.subtable("replication")) {
      config_detail::read_replication(*replication, config.replication.emplace());
      replication->finish();
    }
  }
  if (root.has("control")) {
    if (auto control = root.subtable("control")) {
      config_detail::read_control(*control, config.control);
      control->finish();
    }
  }
  root.finish();

  if (issues.count() != 0) {
    return std::unexpected(issues.take());
  }
  return config;
}

std::expected<Config, std::vector<ConfigIssue>> load_config(const std::string& path) {
  // A config file is small; the limit keeps a mistaken path (a device, /dev/zero) from eating memory.
  constexpr std::size_t kMaxSize = std::size_t{1} << 20;
  const auto fail = [&path](std::string message) {
    return std::unexpected(std::vector<ConfigIssue>{ConfigIssue{path, 0, 0, "", std::move(message)}});
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return fail("cannot read the file: " + std::generic_category().message(errno));
  }
  std::string text;
  char buffer[16384];
  int error = 0;
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      error = errno;
      break;
    }
    if (got == 0) {
      break;
    }
    text.append(buffer, static_cast<std::size_t>(got));
    if (text.size() > kMaxSize) {
      ::close(fd);
      return fail("cannot read the file: larger than 1 MiB");
    }
  }
  ::close(fd);
  if (error != 0) {
    return fail("cannot read the file: " + std::generic_category().message(error));
  }
  return parse_config(text, path);
}

}  // namespace fg::gateway
