// [gateway]: the gateway's id and log level, and the id's default from the host name.

#include <unistd.h>

#include <climits>

#include "gateway/config/sections.hpp"

namespace fg::gateway {

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

namespace config_detail {

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
  if (auto state_dir = table.string("state_dir")) {
    if (state_dir->empty() || state_dir->front() != '/') {
      table.error("state_dir", "must be an absolute path, got " + quote(*state_dir));
    } else {
      out.state_dir = *state_dir;
    }
  }
}

}  // namespace config_detail
}  // namespace fg::gateway
