// RegexParser. With a first byte below 0xE0 the rest is a line matched against one of a few realistic
// patterns; otherwise the rest is a pattern, which must compile or fail with a message, and if it compiles
// is matched against a few sample lines.

#include <array>
#include <string>

#include "devices/serial/regex_parser.hpp"
#include "parser_fuzz_util.hpp"

using namespace fg::devices::serial;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::array<RegexParser, 4> parsers = {
      std::move(*RegexParser::create({R"(T:(?P<temp>-?[\d.]+)C H:(?P<hum>\d+)%)"})),
      std::move(*RegexParser::create({R"(^(?P<t>\d+)(?: bat=(?P<bat>\d+))?$)"})),
      std::move(*RegexParser::create({R"((?P<key>\w+)=(?P<value>[^ ]*))"})),
      std::move(*RegexParser::create({R"(^(?P<all>(a|b|ab)*c?)(?P<x>\p{Greek}*)$)"})),
  };
  fuzz::Input input(data, size);
  const std::uint8_t mode = input.take_byte();
  if (mode < 0xE0) {
    const std::string_view line = input.rest_text();
    const auto result = parsers[mode % parsers.size()].parse(line);
    fuzz::check_result(line, result);
    return 0;
  }
  const std::string_view pattern = input.rest_text().substr(0, 256);
  const auto parser = RegexParser::create({std::string(pattern)});
  if (!parser) {
    FG_FUZZ_CHECK(!parser.error().message.empty());
    return 0;
  }
  for (const std::string_view line : {"", "T:21.5C H:40%", "abc=12 \xCE\xB1\xCE\xB2", "\x7f\x1b[0m"}) {
    // Group names are RE2's business: it accepts only word characters, so they are valid and non-empty.
    fuzz::check_result(line, parser->parse(line));
  }
  return 0;
}
