#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/field.hpp"
#include "devices/serial/json_parser.hpp"
#include "devices/serial/kv_parser.hpp"
#include "devices/serial/parse_error.hpp"
#include "devices/serial/raw_parser.hpp"
#include "devices/serial/regex_parser.hpp"

namespace fg::devices::serial {

// The line format of one port, chosen by its config.
using ParserConfig = std::variant<RawParserConfig, KvParserConfig, JsonParserConfig, RegexParserConfig>;

struct ParserCounters {
  std::uint64_t lines = 0;   // lines offered
  std::uint64_t parsed = 0;  // lines that gave at least one field
  std::uint64_t fields = 0;
  std::uint64_t skipped = 0;  // parts of parsed lines that could not become fields (ParsedLine::skipped)
  // Rejected lines, one counter per ParseErrorKind.
  std::uint64_t empty = 0;
  std::uint64_t nul_byte = 0;
  std::uint64_t invalid_utf8 = 0;
  std::uint64_t syntax = 0;
  std::uint64_t not_an_object = 0;
  std::uint64_t no_fields = 0;
  std::uint64_t no_match = 0;
};

// Any of the four line parsers behind one interface, counting what it sees.
class LineParser {
 public:
  static Expected<LineParser, ConfigError> create(const ParserConfig& config);

  Expected<ParsedLine, ParseError> parse(std::string_view line);
  const ParserCounters& counters() const noexcept { return counters_; }

 private:
  using Impl = std::variant<RawParser, KvParser, JsonParser, RegexParser>;
  explicit LineParser(Impl impl) : impl_(std::move(impl)) {}
  void count_error(ParseErrorKind kind) noexcept;

  Impl impl_;
  ParserCounters counters_;
};

}  // namespace fg::devices::serial
