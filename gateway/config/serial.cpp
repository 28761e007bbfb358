// [[serial]]: one device's port, its request mode, its channels (serial_format.cpp reads the framing and
// the line format), and the names of all of them.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "devices/serial/channel.hpp"
#include "gateway/config/sections.hpp"
#include "gateway/config/serial_format.hpp"
#include "gateway/topics.hpp"

namespace fg::gateway::config_detail {
namespace {

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

void read_channels(TableReader& device, const std::optional<Produced>& produced, SerialSection& section) {
  ds::SerialDeviceSettings& out = section.device;
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
    ds::ChannelSettings& channel = out.channels.emplace_back();
    read_channel(*table, name, issues_before, channel);
    homeassistant::ChannelOptions ha;
    read_channel_homeassistant(*table, channel, ha);
    if (ha.control || table->has("homeassistant")) {
      section.homeassistant[name] = std::move(ha);
    }
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

void read_serial_device(TableReader& table, SerialSection& section) {
  ds::SerialDeviceSettings& out = section.device;
  read_device_name(table, out.name);
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
  read_channels(table, produced, section);
}

}  // namespace

void read_serial_array(TableReader& root, std::vector<SerialSection>& out,
                       std::map<std::string, std::string>& names) {
  const toml::array* array = root_array(root, "serial");
  if (array == nullptr) {
    return;
  }
  // Paths must be unique: path -> index of the first device that has it. Two devices on one path would
  // both read it (root gets past TIOCEXCL) and split its lines between them; the same node under two
  // different paths (a by-id link and ttyUSB0) is refused when the port opens (devices/serial/port.hpp),
  // since only the running system knows where a link points.
  std::map<std::string, std::size_t, std::less<>> paths;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string path = "serial[" + std::to_string(i) + "]";
    const toml::table* table = array_table(root, *array, i, path);
    if (table == nullptr) {
      continue;
    }
    TableReader reader(*table, path, root.issues());
    SerialSection& section = out.emplace_back();
    read_serial_device(reader, section);
    reader.finish();
    unique_device_name(reader, section.device.name, path, names);
    const std::string& port_path = section.device.port.path;
    if (!port_path.empty()) {
      // "/dev/./ttyUSB0" is "/dev/ttyUSB0" too; links are left to the open-time check.
      const auto [first, inserted] =
          paths.emplace(std::filesystem::path(port_path).lexically_normal().string(), i);
      if (!inserted) {
        reader.error("path", "duplicate device path " + quote(port_path) + ", already used by serial[" +
                                 std::to_string(first->second) + "]");
      }
    }
  }
}

}  // namespace fg::gateway::config_detail
