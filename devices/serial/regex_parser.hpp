#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "devices/serial/config_error.hpp"
#include "devices/serial/expected.hpp"
#include "devices/serial/field.hpp"
#include "devices/serial/parse_error.hpp"

namespace re2 {
class RE2;
}

namespace fg::devices::serial {

struct RegexParserConfig {
  // RE2 syntax; named groups (?P<name>...) become channels. Matching is unanchored: the pattern may match
  // anywhere in the line unless it starts with ^ and ends with $.
  std::string pattern;

  bool operator==(const RegexParserConfig&) const = default;
};

// Named groups of a regular expression become fields, as text. RE2 matches in time linear in the line, so
// no device input can cause catastrophic backtracking; the price is no backreferences or lookaround.
// A named group that did not take part in the match (an optional group) gives no field.
class RegexParser {
 public:
  static Expected<RegexParser, ConfigError> create(const RegexParserConfig& config);

  RegexParser(RegexParser&&) noexcept;
  RegexParser& operator=(RegexParser&&) noexcept;
  RegexParser(const RegexParser&) = delete;
  RegexParser& operator=(const RegexParser&) = delete;
  ~RegexParser();

  Expected<ParsedLine, ParseError> parse(std::string_view line) const;

 private:
  RegexParser(std::unique_ptr<re2::RE2> regex, std::vector<std::pair<std::string, int>> groups);

  std::unique_ptr<re2::RE2> regex_;
  std::vector<std::pair<std::string, int>> groups_;  // name and group index, in index order
  int group_count_ = 0;
};

}  // namespace fg::devices::serial
