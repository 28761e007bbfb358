#include "devices/serial/kv_parser.hpp"

#include <algorithm>
#include <utility>

#include "devices/serial/text.hpp"

namespace fg::devices::serial {

namespace {

std::size_t skip_space(std::string_view line, std::size_t at, std::size_t end) noexcept {
  while (at < end && is_space(line[at])) {
    ++at;
  }
  return at;
}

ParseError syntax_error(std::size_t offset) noexcept {
  return ParseError{ParseErrorKind::syntax, offset};
}

// Decodes the quoted value whose opening quote is line[open] into `out` and returns the offset just past
// its closing quote. The escapes are the ones logfmt writers emit: \" \\ \n \t \r. Any other escape is an
// error rather than kept as it stands, so a value never differs from what the device meant without a word;
// it cannot break UTF-8 either, since an escape is two ASCII bytes and decodes to one.
Expected<std::size_t, ParseError> read_quoted(std::string_view line, std::size_t open, std::string& out) {
  for (std::size_t i = open + 1; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      return i + 1;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 == line.size()) {
      break;  // a backslash at the end escapes no closing quote: unterminated
    }
    switch (line[i + 1]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      default:
        return fail(syntax_error(i));
    }
    ++i;
  }
  return fail(syntax_error(open));
}

}  // namespace

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

std::size_t KvParser::piece_end(std::string_view line, std::size_t from) const noexcept {
  if (config_.pair_separator.empty()) {
    while (from < line.size() && !is_space(line[from])) {
      ++from;
    }
    return from;
  }
  return std::min(line.find(config_.pair_separator, from), line.size());
}

std::size_t KvParser::after_separator(std::size_t end, std::size_t line_size) const noexcept {
  // Whitespace between pairs is skipped where the next pair starts; a literal separator is stepped over.
  return end < line_size && !config_.pair_separator.empty() ? end + config_.pair_separator.size() : end;
}

Expected<std::size_t, ParseError> KvParser::read_pair(std::string_view line, std::size_t from,
                                                      ParsedLine& parsed) const {
  const std::size_t start = skip_space(line, from, line.size());
  const std::size_t end = piece_end(line, start);
  const std::string_view piece = trim_space(line.substr(start, end - start));
  if (piece.empty()) {
    return after_separator(end, line.size());  // nothing between two separators: not counted
  }
  const std::size_t at = piece.find(config_.key_value_separator);
  if (at == std::string_view::npos) {
    ++parsed.skipped;
    return after_separator(end, line.size());
  }
  const std::string_view key = trim_space(piece.substr(0, at));
  // With whitespace between pairs a value cannot start with whitespace (that would end the piece), so
  // skipping it only matters with a literal pair separator: `a = "x"`.
  const std::size_t value_start = start + at + config_.key_value_separator.size();
  const std::size_t quote = skip_space(line, value_start, end);
  std::size_t next = end;
  Value value(std::in_place_type<std::string>);
  if (quote < end && line[quote] == '"') {
    // The piece was cut at the first separator, which may lie inside the quotes: the closing quote
    // decides where the pair ends, and only a pair separator or the end of the line may follow it.
    auto close = read_quoted(line, quote, std::get<std::string>(value));
    if (!close) {
      return fail(close.error());
    }
    next = config_.pair_separator.empty() ? *close : skip_space(line, *close, line.size());
    const bool at_boundary = next == line.size() || (config_.pair_separator.empty()
                                                         ? is_space(line[next])
                                                         : line.compare(next, config_.pair_separator.size(),
                                                                        config_.pair_separator) == 0);
    if (!at_boundary) {
      return fail(syntax_error(next));
    }
  } else {
    std::get<std::string>(value) = trim_space(line.substr(value_start, end - value_start));
  }
  if (key.empty()) {
    ++parsed.skipped;
  } else {
    parsed.fields.push_back(Field{std::string(key), std::move(value)});
  }
  return after_separator(next, line.size());
}

Expected<ParsedLine, ParseError> KvParser::parse(std::string_view line) const {
  if (auto bad = check_text(line)) {
    return fail(*bad);
  }
  if (trim_space(line).empty()) {
    return fail(ParseError{ParseErrorKind::empty, 0});
  }
  ParsedLine parsed;
  std::size_t at = 0;
  while (at < line.size()) {
    auto next = read_pair(line, at, parsed);
    if (!next) {
      return fail(next.error());
    }
    at = *next;
  }
  if (parsed.fields.empty()) {
    return fail(ParseError{ParseErrorKind::no_fields, 0});
  }
  return parsed;
}

}  // namespace fg::devices::serial
