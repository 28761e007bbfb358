// [[gpio]]: one line (or PWM channel) per entry, its mode and the keys of that mode. Keys of another mode
// are errors, not silently ignored. Device names are unique among all devices (serial ones too), and no
// two entries may name the same line of the same chip.

#include <map>
#include <set>
#include <utility>

#include "devices/gpio/line.hpp"
#include "gateway/config/sections.hpp"

namespace fg::gateway::config_detail {
namespace {

namespace dg = devices::gpio;

// The keys each mode takes, beyond name, mode, payload and reopen_interval.
const std::map<dg::Mode, std::set<std::string_view>>& mode_keys() {
  static const std::set<std::string_view> line{"chip", "line", "backend", "active_low", "bias"};
  static const auto with = [](std::set<std::string_view> keys) {
    keys.insert(line.begin(), line.end());
    return keys;
  };
  static const std::map<dg::Mode, std::set<std::string_view>> keys{
      {dg::Mode::state, with({"edge", "debounce"})},
      {dg::Mode::counter, with({"edge", "debounce", "interval", "state_dir"})},
      {dg::Mode::output, with({"initial", "safe", "pulse", "max_pulse"})},
      {dg::Mode::pwm,
       {"pwm_chip", "pwm_channel", "frequency", "duty", "min_frequency", "max_frequency", "safe_duty"}},
  };
  return keys;
}

constexpr std::string_view mode_name(dg::Mode mode) {
  switch (mode) {
    case dg::Mode::state: return "state";
    case dg::Mode::counter: return "counter";
    case dg::Mode::output: return "output";
    case dg::Mode::pwm: return "pwm";
  }
  return "";
}

void read_line(TableReader& table, dg::LineSettings& line) {
  if (auto chip = table.string("chip")) {
    if (chip->empty()) {
      table.error("chip", "must not be empty (\"auto\" finds the Pi's header chip)");
    }
    line.chip = *chip;
  }
  if (!table.has("line")) {
    table.missing("line", "missing required key (a line name such as \"GPIO17\", or an offset such as \"17\")");
  } else if (const toml::node* node = table.find("line"); node->is_integer()) {
    const std::int64_t offset = node->value<std::int64_t>().value_or(-1);
    if (offset < 0 || offset > 65535) {
      table.error("line", "an offset must be between 0 and 65535, got " + std::to_string(offset));
    }
    line.line = std::to_string(offset);
  } else if (auto text = table.string("line")) {
    if (text->empty()) {
      table.error("line", "must not be empty");
    }
    line.line = *text;
  }
  if (auto backend = table.choice<dg::Backend>(
          "backend",
          {{"auto", dg::Backend::automatic}, {"gpiod", dg::Backend::gpiod}, {"sysfs", dg::Backend::sysfs}})) {
    line.backend = *backend;
  }
  if (auto active_low = table.boolean("active_low")) {
    line.active_low = *active_low;
  }
  if (auto bias = table.choice<dg::Bias>("bias", {{"as-is", dg::Bias::as_is},
                                                  {"pull-up", dg::Bias::pull_up},
                                                  {"pull-down", dg::Bias::pull_down},
                                                  {"disabled", dg::Bias::disabled}})) {
    line.bias = *bias;
  }
  if (line.backend == dg::Backend::sysfs) {
    if (!line.line.empty() && !dg::line_offset(line.line)) {
      table.error("line", "backend = \"sysfs\" addresses lines by offset (line = 17), not by name");
    }
    if (line.bias != dg::Bias::as_is) {
      table.error("bias", "backend = \"sysfs\" cannot set a bias");
    }
  }
}

void read_pwm(TableReader& table, dg::PwmSettings& pwm) {
  if (!table.has("pwm_chip")) {
    table.missing("pwm_chip", "missing required key (the PWM chip's directory, \"/sys/class/pwm/pwmchip0\")");
  } else if (auto chip = table.string("pwm_chip")) {
    if (!chip->starts_with('/')) {
      table.error("pwm_chip", "expected an absolute path such as \"/sys/class/pwm/pwmchip0\"");
    }
    pwm.chip = *chip;
  }
  if (auto channel = table.integer("pwm_channel", 0, 1023)) {
    pwm.channel = static_cast<unsigned>(*channel);
  }
  const auto positive = [&table](std::string_view key, double& out) {
    if (auto value = table.number(key)) {
      if (*value <= 0 || *value > 1e9) {
        table.error(key, "must be above 0 Hz and at most 1 GHz");
      } else {
        out = *value;
      }
    }
  };
  positive("min_frequency", pwm.min_frequency);
  positive("max_frequency", pwm.max_frequency);
  positive("frequency", pwm.frequency);
  if (pwm.min_frequency > pwm.max_frequency) {
    table.error("min_frequency", "is above max_frequency");
  } else if (pwm.frequency < pwm.min_frequency || pwm.frequency > pwm.max_frequency) {
    table.error(table.has("frequency") ? "frequency" : "min_frequency",
                "the frequency at start must lie between min_frequency and max_frequency");
  }
  const auto percent = [&table](std::string_view key) -> std::optional<double> {
    auto value = table.number(key);
    if (value && (*value < 0 || *value > 100)) {
      table.error(key, "a duty cycle is between 0 and 100 (per cent)");
      return std::nullopt;
    }
    return value;
  };
  if (auto duty = percent("duty")) {
    pwm.duty = *duty;
  }
  pwm.safe_duty = percent("safe_duty");
}

void read_modal(TableReader& table, dg::GpioDeviceSettings& out) {
  const auto on_off = {std::pair<std::string_view, bool>{"off", false}, {"on", true}};
  switch (out.mode) {
    case dg::Mode::state:
    case dg::Mode::counter:
      if (out.mode == dg::Mode::counter) {
        out.input.edge = dg::Edge::rising;
        if (auto interval = table.duration("interval", DurationBounds{.min = std::chrono::seconds(1)})) {
          out.input.interval = *interval;
        }
        if (auto dir = table.string("state_dir")) {
          if (dir->empty()) {
            table.error("state_dir", "must not be empty");
          }
          out.state_dir = *dir;
        }
      }
      if (auto edge = table.choice<dg::Edge>(
              "edge", {{"rising", dg::Edge::rising}, {"falling", dg::Edge::falling}, {"both", dg::Edge::both}})) {
        out.input.edge = *edge;
      }
      if (auto debounce = table.duration("debounce", DurationBounds{.max = std::chrono::seconds(10)})) {
        out.input.debounce = *debounce;
      }
      break;
    case dg::Mode::output:
      if (auto initial = table.choice<bool>("initial", on_off)) {
        out.output.initial = *initial;
      }
      if (auto safe = table.choice<dg::SafeState>(
              "safe", {{"off", dg::SafeState::off}, {"on", dg::SafeState::on}, {"keep", dg::SafeState::keep}})) {
        out.output.safe = *safe;
      }
      if (auto max_pulse = table.duration("max_pulse", DurationBounds{.positive = true})) {
        out.output.max_pulse = *max_pulse;
      }
      if (auto pulse = table.duration("pulse", DurationBounds{.positive = true})) {
        if (*pulse > out.output.max_pulse) {
          table.error("pulse", "is longer than max_pulse (" + format_duration(out.output.max_pulse) + ")");
        }
        out.output.pulse = *pulse;
      }
      break;
    case dg::Mode::pwm:
      read_pwm(table, out.pwm);
      break;
  }
}

void read_gpio_device(TableReader& table, GpioSection& section) {
  dg::GpioDeviceSettings& out = section.device;
  read_device_name(table, out.name);
  if (auto mode = table.choice<dg::Mode>("mode", {{"state", dg::Mode::state},
                                                  {"counter", dg::Mode::counter},
                                                  {"output", dg::Mode::output},
                                                  {"pwm", dg::Mode::pwm}})) {
    out.mode = *mode;
  }
  // Keys that belong to another mode: named, with the mode that would take them.
  const auto& keys = mode_keys();
  for (const auto& [key, node] : table.table()) {
    const std::string_view name = key.str();
    if (keys.at(out.mode).contains(name)) {
      continue;
    }
    for (const auto& [mode, mode_set] : keys) {
      if (mode_set.contains(name)) {
        table.find(name);
        table.error(name, "not used with mode = \"" + std::string(mode_name(out.mode)) + "\" (it is a key of mode = \"" +
                              std::string(mode_name(mode)) + "\")");
        break;
      }
    }
  }
  if (out.mode != dg::Mode::pwm) {
    read_line(table, out.line);
  }
  read_modal(table, out);
  if (auto reopen = table.duration("reopen_interval", DurationBounds{.positive = true})) {
    out.reopen_interval = *reopen;
  }
  if (auto payload =
          table.choice<PayloadForm>("payload", {{"json", PayloadForm::json}, {"raw", PayloadForm::raw}})) {
    section.payload = *payload;
  }
  read_gpio_homeassistant(table, out.mode, mode_name(out.mode), section.homeassistant);
}

}  // namespace

void read_gpio_array(TableReader& root, std::vector<GpioSection>& out, std::map<std::string, std::string>& names) {
  const toml::array* array = root_array(root, "gpio");
  if (array == nullptr) {
    return;
  }
  // chip + line (or pwm_chip + channel) -> the entry that uses it.
  std::map<std::pair<std::string, std::string>, std::size_t> lines;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string path = "gpio[" + std::to_string(i) + "]";
    const toml::table* table = array_table(root, *array, i, path);
    if (table == nullptr) {
      continue;
    }
    TableReader reader(*table, path, root.issues());
    GpioSection& section = out.emplace_back();
    read_gpio_device(reader, section);
    reader.finish();
    unique_device_name(reader, section.device.name, path, names);
    const auto& device = section.device;
    const bool pwm = device.mode == dg::Mode::pwm;
    const auto where = pwm ? std::pair{device.pwm.chip, std::to_string(device.pwm.channel)}
                           : std::pair{device.line.chip, device.line.line};
    if (!where.first.empty() && !where.second.empty()) {
      const auto [first, inserted] = lines.emplace(where, i);
      if (!inserted) {
        reader.error(pwm ? "pwm_channel" : "line",
                     "already used by gpio[" + std::to_string(first->second) + "] (one device per line)");
      }
    }
  }
}

}  // namespace fg::gateway::config_detail
