#pragma once
// The framing and the line format of one [[serial]] table (serial_format.cpp), and what its other readers
// share with them. Private to gateway/config/.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "devices/serial/serial_settings.hpp"
#include "gateway/config/reader.hpp"

namespace fg::gateway::config_detail {

namespace ds = devices::serial;

// Settings of one devices/serial settings struct, applied one at a time over its defaults.
template <class Settings>
class Steps {
 public:
  void add(std::string_view key, std::function<void(Settings&)> apply) {
    steps_.emplace_back(key, std::move(apply));
  }
  Settings build(Settings settings) const {
    for (const auto& step : steps_) {
      step.second(settings);
    }
    return settings;
  }

  // Creates the object from all the settings through create (a devices/serial factory). When that fails,
  // the settings are applied again one by one over the defaults until the error appears, and the error is
  // reported at the key whose setting brought it in: an empty delimiter is reported at delimiter, not at the
  // table. Returns whether the object could be created.
  template <class Create>
  bool check(TableReader& table, const Settings& defaults, Create create) const {
    auto made = create(build(defaults));
    if (made) {
      return true;
    }
    Settings partial = defaults;
    for (const auto& [key, apply] : steps_) {
      apply(partial);
      if (auto again = create(partial); !again) {
        table.error(key, std::move(again).error().message);
        return false;
      }
    }
    table.error_here(std::move(made).error().message);
    return false;
  }

 private:
  std::vector<std::pair<std::string_view, std::function<void(Settings&)>>> steps_;
};

// Compiles an RE2 pattern; on success, returns its named groups through groups (if given).
std::optional<std::string> regex_error(const std::string& pattern,
                                       std::vector<std::string>* groups = nullptr);

inline std::size_t to_size(std::int64_t value) {
  return static_cast<std::size_t>(value);
}

enum class ParserKind : std::uint8_t { raw, kv, json, regex };

// The channels a parser can produce, when it is a fixed set (raw: one; regex: its named groups).
struct Produced {
  ParserKind parser;
  std::vector<std::string> names;
};

// framing and its keys (delimiter, max_line, skip_empty, record_size, max_payload) into out.framer.
void read_framer(TableReader& table, ds::SerialDeviceSettings& out);
// parser and its keys into out.parser; the channels it produces when they are a fixed set.
std::optional<Produced> read_parser(TableReader& table, ds::SerialDeviceSettings& out);

}  // namespace fg::gateway::config_detail
