#include "devices/serial/regex_parser.hpp"

#include <re2/re2.h>

#include <algorithm>

#include "devices/serial/text.hpp"

namespace fg::devices::serial {
namespace {

// Whether the pattern uses \C, RE2's "any single byte". Every other construct matches whole characters
// of a valid UTF-8 line, but \C can cut a character in two and hand a channel invalid text, so it is
// refused at configuration time. Text quoted by \Q...\E is literal and skipped.
bool matches_single_bytes(std::string_view pattern) {
  bool quoted = false;
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '\\') {
      continue;
    }
    const char escaped = pattern[++i];
    if (quoted) {
      quoted = escaped != 'E';
    } else if (escaped == 'Q') {
      quoted = true;
    } else if (escaped == 'C') {
      return true;
    }
  }
  return false;
}

}  // namespace

Expected<RegexParser, ConfigError> RegexParser::create(const RegexParserConfig& config) {
  RE2::Options options;
  // Errors come back as values; RE2 would otherwise also log them to stderr.
  options.set_log_errors(false);
  auto regex = std::make_unique<RE2>(config.pattern, options);
  if (!regex->ok()) {
    return fail(ConfigError{regex->error()});
  }
  if (matches_single_bytes(config.pattern)) {
    return fail(ConfigError{"regex uses \\C (any byte), which can split a UTF-8 character; use . instead"});
  }
  std::vector<std::pair<std::string, int>> groups(regex->NamedCapturingGroups().begin(),
                                                  regex->NamedCapturingGroups().end());
  if (groups.empty()) {
    return fail(ConfigError{"regex has no named group (?P<name>...) to take a channel from"});
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return RegexParser(std::move(regex), std::move(groups));
}

RegexParser::RegexParser(std::unique_ptr<re2::RE2> regex, std::vector<std::pair<std::string, int>> groups)
    : regex_(std::move(regex)), groups_(std::move(groups)), group_count_(regex_->NumberOfCapturingGroups()) {}

RegexParser::RegexParser(RegexParser&&) noexcept = default;
RegexParser& RegexParser::operator=(RegexParser&&) noexcept = default;
RegexParser::~RegexParser() = default;

Expected<ParsedLine, ParseError> RegexParser::parse(std::string_view line) const {
  if (auto bad = check_text(line)) {
    return fail(*bad);
  }
  // Index 0 is the whole match; group i is at index i.
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(group_count_) + 1);
  if (!regex_->Match(re2::StringPiece(line), 0, line.size(), RE2::UNANCHORED, groups.data(),
                     static_cast<int>(groups.size()))) {
    return fail(ParseError{ParseErrorKind::no_match, 0});
  }
  ParsedLine parsed;
  for (const auto& [name, index] : groups_) {
    const re2::StringPiece& group = groups[static_cast<std::size_t>(index)];
    if (group.data() == nullptr) {
      continue;
    }
    parsed.fields.push_back(
        Field{name, Value(std::in_place_type<std::string>, std::string_view(group.data(), group.size()))});
  }
  if (parsed.fields.empty()) {
    return fail(ParseError{ParseErrorKind::no_fields, 0});
  }
  return parsed;
}

}  // namespace fg::devices::serial
