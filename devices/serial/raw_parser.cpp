#include "devices/serial/raw_parser.hpp"

#include <utility>

#include "devices/serial/text.hpp"

namespace fg::devices::serial {

Expected<RawParser, ConfigError> RawParser::create(RawParserConfig config) {
  if (config.channel.empty()) {
    return fail(ConfigError{"raw parser channel name must not be empty"});
  }
  return RawParser(std::move(config.channel));
}

Expected<ParsedLine, ParseError> RawParser::parse(std::string_view line) const {
  if (auto bad = check_text(line)) {
    return fail(*bad);
  }
  const std::string_view value = trim_space(line);
  if (value.empty()) {
    return fail(ParseError{ParseErrorKind::empty, 0});
  }
  ParsedLine parsed;
  parsed.fields.push_back(Field{channel_, Value(std::in_place_type<std::string>, value)});
  return parsed;
}

}  // namespace fg::devices::serial
