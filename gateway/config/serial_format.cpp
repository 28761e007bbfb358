// The framing and the line format of one [[serial]] table: each is checked by creating it with
// devices/serial, and an error lands on the key that brought it in (Steps).

#include "gateway/config/serial_format.hpp"

#include <re2/re2.h>

#include "devices/serial/framer.hpp"
#include "devices/serial/line_parser.hpp"

namespace fg::gateway::config_detail {
namespace {

enum class Framing : std::uint8_t { line, fixed, cobs };

// Keys that belong to one value of a selector (framing, parser): set under another value, they would be
// silently ignored, so they are errors. With the selector itself wrong, they are only marked known.
struct OwnedKey {
  std::string_view key;
  std::string_view owner;  // the selector value the key belongs to
};

void reject_foreign_keys(TableReader& table, std::string_view selector,
                         std::optional<std::string_view> chosen, std::initializer_list<OwnedKey> keys) {
  for (const OwnedKey& owned : keys) {
    if (!table.has(owned.key) || (chosen && *chosen == owned.owner)) {
      continue;
    }
    table.find(owned.key);
    if (chosen) {
      table.error(owned.key, "only used with " + std::string(selector) + " = " + quote(owned.owner));
    }
  }
}

std::string_view name_of(Framing framing) {
  switch (framing) {
    case Framing::line:
      return "line";
    case Framing::fixed:
      return "fixed";
    case Framing::cobs:
      return "cobs";
  }
  return "line";
}

std::string_view name_of(ParserKind parser) {
  switch (parser) {
    case ParserKind::raw:
      return "raw";
    case ParserKind::kv:
      return "kv";
    case ParserKind::json:
      return "json";
    case ParserKind::regex:
      return "regex";
  }
  return "kv";
}

}  // namespace

// Compiles an RE2 pattern; on success, returns its named groups through groups (if given).
std::optional<std::string> regex_error(const std::string& pattern, std::vector<std::string>* groups) {
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 regex(pattern, options);
  if (!regex.ok()) {
    return "invalid regular expression: " + regex.error();
  }
  if (groups != nullptr) {
    for (const auto& [name, index] : regex.NamedCapturingGroups()) {
      groups->push_back(name);
    }
  }
  return std::nullopt;
}

void read_framer(TableReader& table, ds::SerialDeviceSettings& out) {
  std::optional<Framing> framing = Framing::line;
  if (table.has("framing")) {
    framing = table.choice<Framing>(
        "framing", {{"line", Framing::line}, {"fixed", Framing::fixed}, {"cobs", Framing::cobs}});
  }
  reject_foreign_keys(table, "framing", framing ? std::optional(name_of(*framing)) : std::nullopt,
                      {{"delimiter", "line"},
                       {"max_line", "line"},
                       {"skip_empty", "line"},
                       {"record_size", "fixed"},
                       {"max_payload", "cobs"}});
  if (!framing) {
    return;
  }
  const std::size_t issues_before = table.issues().count();
  const auto create = [](const auto& settings) {
    return ds::Framer::create(ds::FramerConfig(settings), [](const ds::Frame&) {});
  };
  switch (*framing) {
    case Framing::line: {
      Steps<ds::LineFramerConfig> steps;
      if (auto delimiter = table.string("delimiter")) {
        steps.add("delimiter", [value = *delimiter](auto& settings) { settings.delimiter = value; });
      }
      if (auto max_line = table.integer("max_line", 1, ds::LineFramer::kMaxLineLength)) {
        steps.add("max_line", [value = to_size(*max_line)](auto& settings) { settings.max_length = value; });
      }
      if (auto skip_empty = table.boolean("skip_empty")) {
        steps.add("skip_empty", [value = *skip_empty](auto& settings) { settings.skip_empty = value; });
      }
      if (table.issues().count() == issues_before && steps.check(table, {}, create)) {
        out.framer = steps.build({});
      }
      break;
    }
    case Framing::fixed: {
      Steps<ds::FixedFramerConfig> steps;
      if (!table.has("record_size")) {
        table.missing("record_size", "required when framing = \"fixed\"");
      } else if (auto size = table.integer("record_size", 1, ds::FixedFramer::kMaxRecordSize)) {
        steps.add("record_size", [value = to_size(*size)](auto& settings) { settings.record_size = value; });
      }
      if (table.issues().count() == issues_before && steps.check(table, {}, create)) {
        out.framer = steps.build({});
      }
      break;
    }
    case Framing::cobs: {
      Steps<ds::CobsFramerConfig> steps;
      if (auto max_payload = table.integer("max_payload", 0, ds::CobsFramer::kMaxPayload)) {
        steps.add("max_payload",
                  [value = to_size(*max_payload)](auto& settings) { settings.max_payload = value; });
      }
      if (table.issues().count() == issues_before && steps.check(table, {}, create)) {
        out.framer = steps.build({});
      }
      break;
    }
  }
}

std::optional<Produced> read_parser(TableReader& table, ds::SerialDeviceSettings& out) {
  std::optional<ParserKind> parser = ParserKind::kv;
  if (table.has("parser")) {
    parser = table.choice<ParserKind>("parser", {{"raw", ParserKind::raw},
                                                 {"kv", ParserKind::kv},
                                                 {"json", ParserKind::json},
                                                 {"regex", ParserKind::regex}});
  }
  reject_foreign_keys(table, "parser", parser ? std::optional(name_of(*parser)) : std::nullopt,
                      {{"raw_channel", "raw"},
                       {"pair_separator", "kv"},
                       {"key_value_separator", "kv"},
                       {"max_depth", "json"},
                       {"pattern", "regex"}});
  if (!parser) {
    return std::nullopt;
  }
  const std::size_t issues_before = table.issues().count();
  const auto create = [](const auto& settings) { return ds::LineParser::create(ds::ParserConfig(settings)); };
  Produced produced{*parser, {}};
  bool ok = false;
  switch (*parser) {
    case ParserKind::raw: {
      Steps<ds::RawParserConfig> steps;
      if (auto channel = table.string("raw_channel")) {
        steps.add("raw_channel", [value = *channel](auto& settings) { settings.channel = value; });
      }
      if (table.issues().count() == issues_before && steps.check(table, {}, create)) {
        out.parser = steps.build({});
        produced.names.push_back(std::get<ds::RawParserConfig>(out.parser).channel);
        ok = true;
      }
      break;
    }
    case ParserKind::kv: {
      Steps<ds::KvParserConfig> steps;
      if (auto separator = table.string("pair_separator")) {
        steps.add("pair_separator",
                  [value = *separator](auto& settings) { settings.pair_separator = value; });
      }
      if (auto separator = table.string("key_value_separator")) {
        steps.add("key_value_separator",
                  [value = *separator](auto& settings) { settings.key_value_separator = value; });
      }
      if (table.issues().count() == issues_before && steps.check(table, {}, create)) {
        out.parser = steps.build({});
      }
      return std::nullopt;
    }
    case ParserKind::json: {
      Steps<ds::JsonParserConfig> steps;
      if (auto depth = table.integer("max_depth", 0, ds::JsonParser::kMaxDepth)) {
        steps.add("max_depth", [value = to_size(*depth)](auto& settings) { settings.max_depth = value; });
      }
      if (table.issues().count() == issues_before && steps.check(table, {}, create)) {
        out.parser = steps.build({});
      }
      return std::nullopt;
    }
    case ParserKind::regex: {
      Steps<ds::RegexParserConfig> steps;
      if (!table.has("pattern")) {
        table.missing("pattern", "required when parser = \"regex\"");
      } else if (auto pattern = table.string("pattern")) {
        // RE2 is asked first for its own message; RegexParser then adds its rules (a named group).
        if (auto error = regex_error(*pattern, &produced.names)) {
          table.error("pattern", std::move(*error));
        } else {
          steps.add("pattern", [value = *pattern](auto& settings) { settings.pattern = value; });
        }
      }
      if (table.issues().count() == issues_before && steps.check(table, {}, create)) {
        out.parser = steps.build({});
        ok = true;
      }
      break;
    }
  }
  return ok ? std::optional(std::move(produced)) : std::nullopt;
}

}  // namespace fg::gateway::config_detail
