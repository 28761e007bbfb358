#include "devices/serial/kv_parser.hpp"

#include <utility>

#include "devices/serial/text.hpp"

namespace fg::devices::serial {

Expected<KvParser, ConfigError> KvParser::create(KvParserConfig config) {
  if (config.key_value_separator.empty()) {
    return fail(ConfigError{"key-value separator must not be empty"});
  }
  if (config.pair_separator == config.key_value_separator) {
    return fail(ConfigError{"pair separator and key-value separator must differ"});
  }
  if (config.pair_separator.empty() && trim_space(config.key_value_separator) != config.key_value_separator) {
    return fail(
        ConfigError{"with whitespace between pairs, the key-value separator cannot start or end with "
                    "whitespace"});
  }
  if (!config.pair_separator.empty() && trim_space(config.pair_separator).empty()) {
    // A literal " " would make "a=1  b=2" fail on the empty piece between the spaces; the empty default
    // already means "any whitespace", so say so rather than half-support it.
    return fail(ConfigError{"a whitespace pair separator is the default: leave it empty"});
  }
  return KvParser(std::move(config));
}

void KvParser::add_pair(std::string_view piece, ParsedLine& parsed) const {
  piece = trim_space(piece);
  if (piece.empty()) {
    return;
  }
  const std::size_t at = piece.find(config_.key_value_separator);
  if (at == std::string_view::npos) {
    ++parsed.skipped;
    return;
  }
  const std::string_view key = trim_space(piece.substr(0, at));
  const std::string_view value = trim_space(piece.substr(at + config_.key_value_separator.size()));
  if (key.empty()) {
    ++parsed.skipped;
    return;
  }
  parsed.fields.push_back(Field{std::string(key), Value(std::in_place_type<std::string>, value)});
}

Expected<ParsedLine, ParseError> KvParser::parse(std::string_view line) const {
  if (auto bad = check_text(line)) {
    return fail(*bad);
  }
  std::string_view rest = trim_space(line);
  if (rest.empty()) {
    return fail(ParseError{ParseErrorKind::empty, 0});
  }
  ParsedLine parsed;
  if (config_.pair_separator.empty()) {
    while (!rest.empty()) {
      std::size_t end = 0;
      while (end < rest.size() && !is_space(rest[end])) {
        ++end;
      }
      add_pair(rest.substr(0, end), parsed);
      rest = trim_space(rest.substr(end));
    }
  } else {
    while (true) {
      const std::size_t at = rest.find(config_.pair_separator);
      add_pair(rest.substr(0, at), parsed);
      if (at == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(at + config_.pair_separator.size());
    }
  }
  if (parsed.fields.empty()) {
    return fail(ParseError{ParseErrorKind::no_fields, 0});
  }
  return parsed;
}

}  // namespace fg::devices::serial
