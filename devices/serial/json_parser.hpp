#pragma once

#include <cstddef>
#include <string_view>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/field.hpp"
#include "devices/serial/parse_error.hpp"

namespace fg::devices::serial {

struct JsonParserConfig {
  // Levels of nesting below the top-level object that are flattened; deeper subtrees are skipped.
  std::size_t max_depth = 4;

  bool operator==(const JsonParserConfig&) const = default;
};

// One JSON object per line. Members become fields, in the order of the line: numbers as doubles, booleans,
// and strings. Nested objects and arrays are flattened with a dot, so {"bme":{"t":21.5},"v":[1,2]} yields
// "bme.t", "v.0" and "v.1". Skipped and counted: nulls, empty keys, keys or strings that decode to a NUL
// (an escaped \u0000), and anything nested deeper than max_depth. A repeated key keeps its last value.
//
// Known limit: integers beyond 2^53 lose precision as doubles, and a key containing a dot cannot be told
// apart from a nested one.
class JsonParser {
 public:
  static constexpr std::size_t kMaxDepth = 16;

  static Expected<JsonParser, ConfigError> create(JsonParserConfig config);

  Expected<ParsedLine, ParseError> parse(std::string_view line) const;

 private:
  explicit JsonParser(std::size_t max_depth) : max_depth_(max_depth) {}

  std::size_t max_depth_;
};

}  // namespace fg::devices::serial
