// The config as a whole: the issues' format, the root table (each section to its reader in sections.hpp),
// and reading the file.

#include "gateway/config/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <system_error>
#include <utility>

#include "gateway/config/sections.hpp"

namespace fg::gateway {

using config_detail::IssueSink;
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
      config_detail::read_gateway(*gateway, config.gateway);
      gateway->finish();
    }
  }
  // Still empty when not set, or when set wrong (then there is an issue, and config is not returned).
  if (config.gateway.id.empty()) {
    config.gateway.id = default_gateway_id();
  }
  if (root.has("mqtt")) {
    if (auto mqtt = root.subtable("mqtt")) {
      config_detail::read_mqtt(*mqtt, config.mqtt);
      mqtt->finish();
    }
  }
  if (config.mqtt.session.client_id.empty()) {
    config.mqtt.session.client_id = "fieldgate-" + config.gateway.id;
  }
  std::map<std::string, std::string> device_names;  // unique across every kind of device
  config_detail::read_serial_array(root, config.serial, device_names);
  config_detail::read_gpio_array(root, config.gpio, device_names);
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
  if (root.has("homeassistant")) {
    if (auto homeassistant = root.subtable("homeassistant")) {
      config_detail::read_homeassistant(*homeassistant, config.homeassistant);
      homeassistant->finish();
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
