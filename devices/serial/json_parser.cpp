#include "devices/serial/json_parser.hpp"

#include <fmt/core.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "devices/serial/text.hpp"

namespace fg::devices::serial {

namespace {

// ordered_json keeps members in the order of the line, so fields come out in the order the device sent.
using Json = nlohmann::ordered_json;

void flatten(const Json& node, const std::string& name, std::size_t depth, std::size_t max_depth,
             ParsedLine& parsed) {
  switch (node.type()) {
    case Json::value_t::object:
    case Json::value_t::array: {
      if (depth >= max_depth) {
        ++parsed.skipped;
        return;
      }
      for (const auto& [key, child] : node.items()) {
        // items() gives array elements their index as the key, as a string.
        if (key.empty() || check_text(key)) {
          ++parsed.skipped;
          continue;
        }
        std::string child_name = name;
        if (!child_name.empty()) {
          child_name += '.';
        }
        child_name += key;
        flatten(child, child_name, depth + 1, max_depth, parsed);
      }
      return;
    }
    case Json::value_t::boolean:
      parsed.fields.push_back(Field{name, Value(std::in_place_type<bool>, node.get<bool>())});
      return;
    case Json::value_t::number_integer:
      parsed.fields.push_back(Field{name, Value(std::in_place_type<std::int64_t>, node.get<std::int64_t>())});
      return;
    case Json::value_t::number_unsigned:
      // Integers stay exact (a meter total above 2^53); only one beyond int64 becomes a double.
      if (node.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        parsed.fields.push_back(
            Field{name, Value(std::in_place_type<std::int64_t>, node.get<std::int64_t>())});
        return;
      }
      [[fallthrough]];
    case Json::value_t::number_float:
      parsed.fields.push_back(Field{name, Value(std::in_place_type<double>, node.get<double>())});
      return;
    case Json::value_t::string: {
      const auto& text = node.get_ref<const std::string&>();
      if (check_text(text)) {
        ++parsed.skipped;
        return;
      }
      parsed.fields.push_back(Field{name, Value(std::in_place_type<std::string>, text)});
      return;
    }
    default:
      // Null; binary and discarded values cannot come out of parsing text.
      ++parsed.skipped;
      return;
  }
}

}  // namespace

Expected<JsonParser, ConfigError> JsonParser::create(JsonParserConfig config) {
  if (config.max_depth > kMaxDepth) {
    return fail(ConfigError{fmt::format("JSON max depth must be at most {}", kMaxDepth)});
  }
  return JsonParser(config.max_depth);
}

Expected<ParsedLine, ParseError> JsonParser::parse(std::string_view line) const {
  if (auto bad = check_text(line)) {
    return fail(*bad);
  }
  if (trim_space(line).empty()) {
    return fail(ParseError{ParseErrorKind::empty, 0});
  }
  // No callback, and allow_exceptions = false: malformed input gives a discarded value instead of a throw.
  // nlohmann's parser keeps its own stack, so deeply nested input cannot overflow ours.
  const Json json = Json::parse(line, nullptr, false);
  if (json.is_discarded()) {
    return fail(ParseError{ParseErrorKind::syntax, 0});
  }
  if (!json.is_object()) {
    return fail(ParseError{ParseErrorKind::not_an_object, 0});
  }
  ParsedLine parsed;
  // The top level is depth 0; max_depth_ more levels below it are flattened.
  flatten(json, std::string(), 0, max_depth_ + 1, parsed);
  if (parsed.fields.empty()) {
    return fail(ParseError{ParseErrorKind::no_fields, 0});
  }
  return parsed;
}

}  // namespace fg::devices::serial
