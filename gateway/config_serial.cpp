#include "gateway/config_serial.hpp"
#include "gateway/topics.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include "devices/serial/channel.hpp"

namespace fg::gateway::config_detail {

namespace ds = devices::serial;

namespace {

enum class Framing : std::uint8_t { line, fixed, cobs };
enum class ParserKind : std::uint8_t { raw, kv, json, regex };

// Settings of one devices/serial config struct, applied one at a time over its defaults.
template <class Settings>
class Steps {
 public:
  void add(std::string_view key, std::function<void(Settings&)> apply) {
    steps_.emplace_back(key, std::move(apply));
  }
  Settings build(Settings settings) const {
    for (const auto& step : steps_) {
      step.second(settings);
    }
    return settings;
  }

  // Creates the object from all the settings through create (a devices/serial factory). When that fails,
  // the settings are applied again one by one over the defaults until the error appears, and the error is
  // reported at the key whose setting brought it in: an empty delimiter is reported at delimiter, not at the
  // table. Returns whether the object could be created.
  template <class Create>
  bool check(TableReader& table, const Settings& defaults, Create create) const {
    auto made = create(build(defaults));
    if (made) {
      return true;
    }
    Settings partial = defaults;
    for (const auto& [key, apply] : steps_) {
      apply(partial);
      if (auto again = create(partial); !again) {
        table.error(key, std::move(again).error().message);
        return false;
      }
    }
    table.error_here(std::move(made).error().message);
    return false;
  }

 private:
  std::vector<std::pair<std::string_view, std::function<void(Settings&)>>> steps_;
};

// Compiles an RE2 pattern; on success, returns its named groups through groups (if given).
std::optional<std::string> regex_error(const std::string& pattern,
                                       std::vector<std::string>* groups = nullptr) {
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

// The topic level after <prefix>/<gateway>/ that the replicated register's topics use. It is reserved
// whether or not [replication] is set, so that turning replication on never makes a device's name, and
// the topics every subscriber of that device uses, invalid.
constexpr std::string_view kReservedDeviceName = "register";

std::size_t to_size(std::int64_t value) {
  return static_cast<std::size_t>(value);
}

void read_port(TableReader& table, ds::PortSettings& port) {
  if (!table.has("path")) {
    table.missing("path");
  } else if (auto path = table.string("path")) {
    if (path->empty()) {
      table.error("path", "must not be empty");
    }
    port.path = *path;
  }
  // Any positive rate passes: whether the port takes it (a standard rate, or one the driver accepts) is
  // found out when it opens, and reported for that port alone.
  if (auto baud = table.integer("baud", 1, std::numeric_limits<std::uint32_t>::max())) {
    port.baud = static_cast<std::uint32_t>(*baud);
  }
  if (auto data_bits = table.integer("data_bits", 5, 8)) {
    port.data_bits = static_cast<std::uint8_t>(*data_bits);
  }
  if (auto parity = table.choice<ds::Parity>(
          "parity", {{"none", ds::Parity::none}, {"even", ds::Parity::even}, {"odd", ds::Parity::odd}})) {
    port.parity = *parity;
  }
  if (auto stop_bits = table.integer("stop_bits", 1, 2)) {
    port.stop_bits = static_cast<std::uint8_t>(*stop_bits);
  }
  if (auto flow = table.choice<ds::FlowControl>("flow_control", {{"none", ds::FlowControl::none},
                                                                 {"rtscts", ds::FlowControl::rtscts},
                                                                 {"xonxoff", ds::FlowControl::xonxoff}})) {
    port.flow_control = *flow;
  }
  if (auto write_queue = table.integer("write_queue", 1)) {
    port.write_queue_limit = to_size(*write_queue);
  }
  if (auto reopen = table.duration("reopen_interval", DurationBounds{.positive = true})) {
    port.reopen_interval = *reopen;
  }
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

// The channels a parser can produce, when it is a fixed set (raw: one; regex: its named groups).
struct Produced {
  ParserKind parser;
  std::vector<std::string> names;
};

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

// set_format is a fmt format string with two named arguments, {channel} and {value} (a format spec such as
// {value:>6} is allowed); {{ and }} are literal braces. Names are checked here for a clear message, and the
// whole string is then formatted once, so it cannot fail when a /set command comes.
std::optional<std::string> set_format_error(std::string_view format) {
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '{') {
      if (i + 1 < format.size() && format[i + 1] == '{') {
        ++i;
        continue;
      }
      const std::size_t close = format.find('}', i);
      if (close == std::string_view::npos) {
        return "unclosed { at offset " + std::to_string(i) + "; write {{ for a literal brace";
      }
      const std::string_view placeholder = format.substr(i + 1, close - i - 1);
      const std::string_view name = placeholder.substr(0, placeholder.find(':'));
      if (name != "channel" && name != "value") {
        return "unknown placeholder {" + std::string(placeholder) +
               "}: the placeholders are {channel} and {value}, and {{ and }} are literal braces";
      }
      i = close;
    } else if (format[i] == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        ++i;
        continue;
      }
      return "unmatched } at offset " + std::to_string(i) + "; write }} for a literal brace";
    }
  }
  try {
    (void)fmt::format(fmt::runtime(format), fmt::arg("channel", std::string_view("t")),
                      fmt::arg("value", std::string_view("1")));
  } catch (const fmt::format_error& error) {
    return std::string("invalid format: ") + error.what();
  }
  return std::nullopt;
}

// issues_before: the issue count before the channel's own name was checked, so that a bad name keeps
// devices/serial from reporting it a second time.
void read_channel(TableReader& table, const std::string& name, std::size_t issues_before,
                  ds::ChannelSettings& out) {
  out.spec.name = name;
  std::optional<ds::ValueKind> kind = ds::ValueKind::number;
  if (table.has("kind")) {
    kind = table.choice<ds::ValueKind>("kind", {{"number", ds::ValueKind::number},
                                                {"boolean", ds::ValueKind::boolean},
                                                {"text", ds::ValueKind::text}});
  }
  if (kind) {
    out.spec.kind = *kind;
  }
  if (auto unit = table.string("unit")) {
    out.spec.unit = *unit;
  }
  if (auto change_only = table.boolean("change_only")) {
    out.spec.filter.change_only = *change_only;
  }
  // Number settings on a boolean or text channel would be silently ignored.
  for (const std::string_view key : {"scale", "offset", "deadband"}) {
    if (kind && *kind != ds::ValueKind::number && table.has(key)) {
      table.find(key);
      table.error(key, "only used with kind = \"number\"");
    }
  }
  Steps<ds::ChannelSpec> steps;
  if (!kind || *kind == ds::ValueKind::number) {
    if (auto scale = table.number("scale")) {
      steps.add("scale", [value = *scale](auto& spec) { spec.scale = value; });
    }
    if (auto offset = table.number("offset")) {
      steps.add("offset", [value = *offset](auto& spec) { spec.offset = value; });
    }
    if (auto deadband = table.number("deadband")) {
      if (*deadband < 0) {
        table.error("deadband", fmt::format("must not be negative, got {}", *deadband));
      } else if (!out.spec.filter.change_only) {
        table.error("deadband", "only used with change_only = true");
      } else {
        steps.add("deadband", [value = *deadband](auto& spec) { spec.filter.deadband = value; });
      }
    }
  }
  if (auto interval = table.duration("min_interval", DurationBounds{})) {
    steps.add("min_interval", [value = *interval](auto& spec) { spec.filter.min_interval = value; });
  }
  if (auto set_format = table.string("set_format")) {
    if (auto error = set_format_error(*set_format)) {
      table.error("set_format", std::move(*error));
    }
    out.set_format = *set_format;
  }
  if (table.issues().count() == issues_before &&
      steps.check(table, out.spec, [](const ds::ChannelSpec& spec) { return ds::Channel::create(spec); })) {
    out.spec = steps.build(out.spec);
  }
}

void read_channels(TableReader& device, const std::optional<Produced>& produced,
                   ds::SerialDeviceSettings& out) {
  if (!device.has("channels")) {
    return;
  }
  auto channels = device.subtable("channels");
  if (!channels) {
    return;
  }
  for (const auto& [key, node] : channels->table()) {
    const std::string name(key.str());
    auto table = channels->subtable(name);
    if (!table) {
      continue;
    }
    const std::size_t issues_before = table->issues().count();
    // The name is the last level of the reading's topic.
    if (name.empty()) {
      table->error_here("a channel name must not be empty");
    } else if (name.find_first_of("/+#") != std::string::npos) {
      table->error_here("a channel name is one MQTT topic level: it must not contain /, + or #");
    } else if (!Topics::is_channel_name(name)) {
      table->error_here("the channel name " + quote(name) +
                        " is taken by the topic layout (status, write, request and reply are not channels)");
    } else if (produced &&
               std::find(produced->names.begin(), produced->names.end(), name) == produced->names.end()) {
      if (produced->parser == ParserKind::raw) {
        table->error_here("the raw parser produces only the channel " + quote(produced->names.front()) +
                          " (raw_channel)");
      } else {
        std::string groups;
        for (const std::string& group : produced->names) {
          groups += (groups.empty() ? "" : ", ") + quote(group);
        }
        table->error_here("not a named group of pattern, whose groups are " + groups);
      }
    }
    read_channel(*table, name, issues_before, out.channels.emplace_back());
    table->finish();
  }
  channels->finish();
}

void read_request(TableReader& device, ds::SerialDeviceSettings& out) {
  if (!device.has("request")) {
    return;
  }
  auto table = device.subtable("request");
  if (!table) {
    return;
  }
  ds::RequestSettings& request = out.request.emplace();
  if (!table->has("reply_pattern")) {
    table->missing("reply_pattern");
  } else if (auto pattern = table->string("reply_pattern")) {
    if (auto error = regex_error(*pattern)) {
      table->error("reply_pattern", std::move(*error));
    }
    request.reply_pattern = *pattern;
  }
  if (auto timeout = table->duration("timeout", DurationBounds{.positive = true})) {
    request.timeout = *timeout;
  }
  table->finish();
}

}  // namespace

void read_serial_device(TableReader& table, SerialSection& section) {
  ds::SerialDeviceSettings& out = section.device;
  if (!table.has("name")) {
    table.missing("name");
  } else if (auto name = table.string("name")) {
    if (!is_identifier(*name)) {
      table.error("name", "must match [A-Za-z0-9_-]+ (one MQTT topic level), got " + quote(*name));
    } else if (*name == kReservedDeviceName) {
      table.error("name", "the device name " + quote(*name) +
                              " is taken by the topic layout (<prefix>/<gateway>/register/... is the "
                              "replicated register)");
    } else {
      out.name = *name;
    }
  }
  read_port(table, out.port);
  read_framer(table, out);
  const std::optional<Produced> produced = read_parser(table, out);
  if (auto payload =
          table.choice<PayloadForm>("payload", {{"json", PayloadForm::json}, {"raw", PayloadForm::raw}})) {
    section.payload = *payload;
  }
  if (auto terminator = table.string("write_terminator")) {
    out.write_terminator = *terminator;
  }
  if (auto unlisted = table.choice<ds::UnlistedPolicy>(
          "unlisted", {{"publish", ds::UnlistedPolicy::publish}, {"drop", ds::UnlistedPolicy::drop}})) {
    out.unlisted = *unlisted;
  }
  read_request(table, out);
  read_channels(table, produced, out);
}

}  // namespace fg::gateway::config_detail
