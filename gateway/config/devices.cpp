// What every device section shares: the array of tables it is, the device's name, and the rule that
// names are unique among all devices of every kind (they are one topic level under the gateway's).

#include "gateway/config/sections.hpp"

namespace fg::gateway::config_detail {
namespace {

// The topic level after <prefix>/<gateway>/ that the replicated register's topics use. It is reserved
// whether or not [replication] is set, so that turning replication on never makes a device's name, and
// the topics every subscriber of that device uses, invalid.
constexpr std::string_view kReservedDeviceName = "register";

}  // namespace

const toml::array* root_array(TableReader& root, std::string_view key) {
  const toml::node* node = root.find(key);
  if (node == nullptr) {
    return nullptr;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    root.error(key, "expected an array of tables ([[" + std::string(key) + "]]), got " +
                        std::string(type_name(node->type())));
  }
  return array;
}

const toml::table* array_table(TableReader& root, const toml::array& array, std::size_t i, const std::string& path) {
  const toml::node& element = *array.get(i);
  const toml::table* table = element.as_table();
  if (table == nullptr) {
    root.issues().add(element.source().begin, path, "expected a table, got " + std::string(type_name(element.type())));
  }
  return table;
}

void read_device_name(TableReader& table, std::string& out) {
  if (!table.has("name")) {
    table.missing("name");
  } else if (auto name = table.string("name")) {
    if (!is_identifier(*name)) {
      table.error("name", "must match [A-Za-z0-9_-]+ (one MQTT topic level), got " + quote(*name));
    } else if (*name == kReservedDeviceName) {
      table.error("name", "the device name " + quote(*name) +
                              " is taken by the topic layout (<prefix>/<gateway>/register/... is the "
                              "replicated register)");
    } else {
      out = *name;
    }
  }
}

void unique_device_name(TableReader& table, const std::string& name, const std::string& path,
                        std::map<std::string, std::string>& names) {
  if (name.empty()) {
    return;
  }
  const auto [first, inserted] = names.emplace(name, path);
  if (!inserted) {
    table.error("name", "duplicate device name " + quote(name) + ", already used by " + first->second);
  }
}

}  // namespace fg::gateway::config_detail
