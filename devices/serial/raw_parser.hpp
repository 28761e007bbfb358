#pragma once

#include <string>
#include <string_view>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/field.hpp"
#include "devices/serial/parse_error.hpp"

namespace fg::devices::serial {

struct RawParserConfig {
  std::string channel = "value";

  bool operator==(const RawParserConfig&) const = default;
};

// The whole line, without surrounding ASCII whitespace, is one text value of one channel.
class RawParser {
 public:
  static Expected<RawParser, ConfigError> create(RawParserConfig config);

  Expected<ParsedLine, ParseError> parse(std::string_view line) const;

 private:
  explicit RawParser(std::string channel) : channel_(std::move(channel)) {}

  std::string channel_;
};

}  // namespace fg::devices::serial
