#include "devices/serial/line_parser.hpp"

#include <utility>

namespace fg::devices::serial {

namespace {

// One overload per config type picks the parser it configures.
Expected<RawParser, ConfigError> create_concrete(const RawParserConfig& config) {
  return RawParser::create(config);
}
Expected<KvParser, ConfigError> create_concrete(const KvParserConfig& config) {
  return KvParser::create(config);
}
Expected<JsonParser, ConfigError> create_concrete(const JsonParserConfig& config) {
  return JsonParser::create(config);
}
Expected<RegexParser, ConfigError> create_concrete(const RegexParserConfig& config) {
  return RegexParser::create(config);
}

}  // namespace

Expected<LineParser, ConfigError> LineParser::create(const ParserConfig& config) {
  return std::visit(
      [](const auto& concrete_config) -> Expected<LineParser, ConfigError> {
        auto made = create_concrete(concrete_config);
        if (!made) {
          return fail(std::move(made).error());
        }
        return LineParser(Impl(std::move(*made)));
      },
      config);
}

Expected<ParsedLine, ParseError> LineParser::parse(std::string_view line) {
  ++counters_.lines;
  auto result = std::visit([line](const auto& parser) { return parser.parse(line); }, impl_);
  if (result) {
    ++counters_.parsed;
    counters_.fields += result->fields.size();
    counters_.skipped += result->skipped;
  } else {
    count_error(result.error().kind);
  }
  return result;
}

void LineParser::count_error(ParseErrorKind kind) noexcept {
  switch (kind) {
    case ParseErrorKind::empty:
      ++counters_.empty;
      return;
    case ParseErrorKind::nul_byte:
      ++counters_.nul_byte;
      return;
    case ParseErrorKind::invalid_utf8:
      ++counters_.invalid_utf8;
      return;
    case ParseErrorKind::syntax:
      ++counters_.syntax;
      return;
    case ParseErrorKind::not_an_object:
      ++counters_.not_an_object;
      return;
    case ParseErrorKind::no_fields:
      ++counters_.no_fields;
      return;
    case ParseErrorKind::no_match:
      ++counters_.no_match;
      return;
  }
}

}  // namespace fg::devices::serial
