// KvParser on any line, with the default separators or a few configured ones picked by the first byte.
// Besides the checks every parser gets: without quotes, keys and values are pieces of the line; and what the
// parser accepted, written back with every value quoted and escaped, parses to the same fields.

#include <array>
#include <string>

#include "devices/serial/kv_parser.hpp"
#include "parser_fuzz_util.hpp"

using namespace fg::devices::serial;

namespace {

// The separators below do not overlap themselves or each other, so a key read back is cut where it was.
const std::array<KvParserConfig, 4> kConfigs = {{{}, {",", "="}, {";", ":"}, {", ", ":="}}};

std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + '"';
}

std::string written_back(const KvParserConfig& config, const ParsedLine& parsed) {
  std::string line;
  for (const Field& field : parsed.fields) {
    if (!line.empty()) {
      line += config.pair_separator.empty() ? std::string(" ") : config.pair_separator;
    }
    line += field.channel + config.key_value_separator + quoted(std::get<std::string>(field.value));
  }
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::array<KvParser, 4> parsers = {
      std::move(*KvParser::create(kConfigs[0])),
      std::move(*KvParser::create(kConfigs[1])),
      std::move(*KvParser::create(kConfigs[2])),
      std::move(*KvParser::create(kConfigs[3])),
  };
  fuzz::Input input(data, size);
  const std::size_t which = input.take_byte() % parsers.size();
  const KvParser& parser = parsers[which];
  const std::string_view line = input.rest_text();
  const auto result = parser.parse(line);
  fuzz::check_result(line, result);
  if (!result) {
    return 0;
  }
  const bool has_quote = line.find('"') != std::string_view::npos;
  for (const Field& field : result->fields) {
    FG_FUZZ_CHECK(line.find(field.channel) != std::string_view::npos);
    FG_FUZZ_CHECK(trim_space(field.channel) == field.channel);
    if (!has_quote) {
      FG_FUZZ_CHECK(line.find(std::get<std::string>(field.value)) != std::string_view::npos);
    }
  }
  const std::string again = written_back(kConfigs[which], *result);
  const auto reparsed = parser.parse(again);
  FG_FUZZ_CHECK(reparsed.has_value());
  FG_FUZZ_CHECK(reparsed->fields == result->fields);
  FG_FUZZ_CHECK(reparsed->skipped == 0);
  return 0;
}
