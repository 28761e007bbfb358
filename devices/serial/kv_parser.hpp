#pragma once

#include <string>
#include <string_view>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/field.hpp"
#include "devices/serial/parse_error.hpp"

namespace fg::devices::serial {

struct KvParserConfig {
  // Between pairs. Empty means any run of ASCII whitespace, as in "t=21.5 h=40"; otherwise a literal string
  // such as "," or "; ", and the pieces between are trimmed of whitespace.
  std::string pair_separator;
  // Between key and value, the first occurrence in each pair; the rest belongs to the value.
  std::string key_value_separator = "=";
};

// Key-value pairs: each pair becomes a field named by its key with its value as text, both trimmed of
// ASCII whitespace. A piece without the separator or with an empty key is skipped and counted; a line with
// no pair at all is an error. A repeated key yields a field each time, in line order.
//
// Known limit: no quoting, so with whitespace between pairs a value cannot contain a space, and with the
// default separators "t = 21.5" is three pieces, none of them a pair.
class KvParser {
 public:
  static Expected<KvParser, ConfigError> create(KvParserConfig config);

  Expected<ParsedLine, ParseError> parse(std::string_view line) const;

 private:
  explicit KvParser(KvParserConfig config) : config_(std::move(config)) {}
  void add_pair(std::string_view piece, ParsedLine& parsed) const;

  KvParserConfig config_;
};

}  // namespace fg::devices::serial
