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

  bool operator==(const KvParserConfig&) const = default;
};

// Key-value pairs: each pair becomes a field named by its key with its value as text, both trimmed of
// ASCII whitespace. A piece without the separator or with an empty key is skipped and counted; a line with
// no pair at all is an error. A repeated key yields a field each time, in line order.
//
// Quoting, as in logfmt: a value whose first byte (after whitespace, with a literal pair separator) is a
// double quote runs to the closing quote, whitespace and separators included, and is not trimmed:
// `msg="hello world"` gives `hello world`. Inside the quotes \" \\ \n \t \r are escapes; any other
// backslash sequence, a missing closing quote, or anything but a pair separator or the end of the line
// after the closing quote rejects the whole line as a syntax error at the offending byte: a guess could
// publish a value the device never sent. A quote anywhere else (in a key, or inside an unquoted value) is
// an ordinary byte.
//
// Known limit: keys cannot be quoted, and with the default separators "t = 21.5" is three pieces, none of
// them a pair.
class KvParser {
 public:
  static Expected<KvParser, ConfigError> create(KvParserConfig config);

  Expected<ParsedLine, ParseError> parse(std::string_view line) const;

 private:
  explicit KvParser(KvParserConfig config) : config_(std::move(config)) {}
  // Reads the pair that starts at or after `from` (whitespace first is skipped) into `parsed`; returns
  // where the next one starts.
  Expected<std::size_t, ParseError> read_pair(std::string_view line, std::size_t from,
                                              ParsedLine& parsed) const;
  // Where an unquoted piece that starts at `from` ends: at whitespace or at the pair separator, or at the
  // end of the line.
  std::size_t piece_end(std::string_view line, std::size_t from) const noexcept;
  std::size_t after_separator(std::size_t end, std::size_t line_size) const noexcept;

  KvParserConfig config_;
};

}  // namespace fg::devices::serial
