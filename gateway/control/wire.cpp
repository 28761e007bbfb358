#include "gateway/control/wire.hpp"

#include <algorithm>

namespace fg::gateway::control_wire {

using nlohmann::json;

std::size_t nesting_depth(std::string_view text) noexcept {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Written by hand: nlohmann's own objects would sort the keys.
std::string success_line(const json& id, const json& fields) {
  std::string line = "{\"id\":" + dump(id) + ",\"ok\":true";
  auto add = [&line](const std::string& key, const json& value) {
    line += ',';
    line += dump(json(key));
    line += ':';
    line += dump(value);
  };
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      if (key != "id" && key != "ok") {
        add(key, value);
      }
    }
  } else if (!fields.is_null()) {
    add("result", fields);
  }
  line += "}\n";
  return line;
}

std::string error_line(const json& id, std::string_view error, std::string_view code) {
  return "{\"id\":" + dump(id) + ",\"ok\":false,\"error\":" + dump(json(error)) +
         ",\"code\":" + dump(json(code)) + "}\n";
}

bool is_blank(std::string_view line) noexcept {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace fg::gateway::control_wire
