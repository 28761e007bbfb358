#include "gateway/topics.hpp"

#include <vector>

namespace fg::gateway {

Topics::Topics(std::string prefix, std::string gateway_id) : base_(prefix + "/" + gateway_id + "/") {}

std::string Topics::gateway_status() const {
  return base_ + "status";
}

std::string Topics::metrics() const {
  return base_ + "metrics";
}

std::string Topics::device_status(std::string_view device) const {
  return base_ + std::string(device) + "/status";
}

std::string Topics::reading(std::string_view device, std::string_view channel) const {
  return base_ + std::string(device) + "/" + std::string(channel);
}

std::string Topics::reply(std::string_view device) const {
  return base_ + std::string(device) + "/reply";
}

bool Topics::is_channel_name(std::string_view name) noexcept {
  if (name.empty() || name.find_first_of(std::string_view("/+#\0", 4)) != std::string_view::npos) {
    return false;
  }
  return name != "status" && name != "write" && name != "request" && name != "reply";
}

std::vector<std::string> Topics::command_filters() const {
  return {base_ + "+/write", base_ + "+/request", base_ + "+/+/set", base_ + "+/+/pulse"};
}

std::optional<Topics::Command> Topics::parse_command(std::string_view topic) const {
  if (!topic.starts_with(base_)) {
    return std::nullopt;
  }
  std::vector<std::string_view> levels;
  std::string_view rest = topic.substr(base_.size());
  for (std::size_t slash; (slash = rest.find('/')) != std::string_view::npos; rest.remove_prefix(slash + 1)) {
    levels.push_back(rest.substr(0, slash));
  }
  levels.push_back(rest);
  if (levels.size() == 2 && levels[1] == "write") {
    return Command{CommandKind::write, std::string(levels[0]), {}};
  }
  if (levels.size() == 2 && levels[1] == "request") {
    return Command{CommandKind::request, std::string(levels[0]), {}};
  }
  if (levels.size() == 3 && levels[2] == "set") {
    return Command{CommandKind::set, std::string(levels[0]), std::string(levels[1])};
  }
  if (levels.size() == 3 && levels[2] == "pulse") {
    return Command{CommandKind::pulse, std::string(levels[0]), std::string(levels[1])};
  }
  return std::nullopt;
}

std::string Topics::register_get_filter() const {
  return base_ + "register/get/#";
}

std::optional<std::string> Topics::parse_register_get(std::string_view topic) const {
  std::string prefix = base_ + "register/get/";
  if (!topic.starts_with(prefix) || topic.size() == prefix.size()) {
    return std::nullopt;
  }
  return std::string(topic.substr(prefix.size()));
}

std::string Topics::register_value(std::string_view key) const {
  return base_ + "register/value/" + std::string(key);
}

}  // namespace fg::gateway
