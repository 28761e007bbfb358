// SimChip: configfs writes and sysfs reads for gpio-sim (see sim_chip.hpp and the kernel's
// Documentation/admin-guide/gpio/gpio-sim.rst). Each step names the path it failed on, so a test's
// failure message says what the kernel refused.

#include "tests/gpio/sim_chip.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

namespace fg::test {
namespace {

namespace fs = std::filesystem;
constexpr const char* kConfigRoot = "/sys/kernel/config/gpio-sim";
// Chips this helper makes are named fg-sim-<pid>-<n>, so remove_stale() can tell whose they are.
constexpr const char* kNamePrefix = "fg-sim-";

std::string errno_text(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + ::strerror(err);
}

// One write() of the whole text, as configfs and sysfs attributes want it (a short or split write would
// be taken as two values).
std::expected<void, std::string> write_attr(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(errno_text("open", path, errno));
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n < 0) {
    return std::unexpected(errno_text("write '" + text + "' to", path, err));
  }
  return {};
}

std::expected<std::string, std::string> read_attr(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(errno_text("open", path, errno));
  }
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  int err = errno;
  ::close(fd);
  if (n < 0) {
    return std::unexpected(errno_text("read", path, err));
  }
  std::string text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::expected<void, std::string> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) {
    return std::unexpected(errno_text("mkdir", path, errno));
  }
  return {};
}

const char* hog_direction_text(SimChip::HogDirection d) {
  switch (d) {
    case SimChip::HogDirection::input:
      return "input";
    case SimChip::HogDirection::output_high:
      return "output-high";
    case SimChip::HogDirection::output_low:
      return "output-low";
  }
  return "input";
}

std::string line_config_dir(const std::string& chip_dir, unsigned offset) {
  return chip_dir + "/bank0/line" + std::to_string(offset);
}

}  // namespace

bool SimChip::available() { return ::access(kConfigRoot, W_OK) == 0; }

std::string SimChip::unavailable_reason() {
  return std::string(kConfigRoot) +
         " is absent (no gpio-sim module or configfs here): these tests run in the gpio-sim VM, "
         "tests/gpio-vm/run.sh";
}

std::expected<SimChip, std::string> SimChip::create(const Spec& spec) {
  static std::atomic<unsigned> counter{0};
  SimChip chip;
  std::string name = kNamePrefix + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  chip.label_ = spec.label.empty() ? name : spec.label;
  chip.num_lines_ = spec.num_lines;
  if (auto made = make_dir(std::string(kConfigRoot) + "/" + name); !made) {
    return std::unexpected(made.error());
  }
  // From here on the destructor of `chip` removes whatever part was made if a step fails.
  chip.config_dir_ = std::string(kConfigRoot) + "/" + name;
  const std::string bank = chip.config_dir_ + "/bank0";
  auto step = make_dir(bank);
  if (step) step = write_attr(bank + "/num_lines", std::to_string(spec.num_lines));
  if (step) step = write_attr(bank + "/label", chip.label_);
  for (const auto& [offset, line_name] : spec.line_names) {
    if (!step) break;
    step = make_dir(line_config_dir(chip.config_dir_, offset));
    if (step) chip.lines_.push_back(offset);
    if (step) step = write_attr(line_config_dir(chip.config_dir_, offset) + "/name", line_name);
  }
  for (const Hog& hog : spec.hogs) {
    if (!step) break;
    const std::string line = line_config_dir(chip.config_dir_, hog.offset);
    if (!spec.line_names.contains(hog.offset)) {
      step = make_dir(line);
      if (step) chip.lines_.push_back(hog.offset);
    }
    if (step) step = make_dir(line + "/hog");
    if (step) chip.hogs_.push_back(hog.offset);
    if (step) step = write_attr(line + "/hog/name", hog.consumer);
    if (step) step = write_attr(line + "/hog/direction", hog_direction_text(hog.direction));
  }
  if (step) step = chip.set_live(true);
  if (!step) {
    return std::unexpected(step.error());
  }
  return chip;
}

int SimChip::remove_stale() {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kConfigRoot, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(kNamePrefix)) continue;
    std::string pid = name.substr(std::string(kNamePrefix).size());
    pid = pid.substr(0, pid.find('-'));
    if (pid == std::to_string(::getpid()) || fs::exists("/proc/" + pid)) continue;
    SimChip stale;
    stale.config_dir_ = entry.path().string();
    stale.live_ = true;  // write live = 0 whatever it is
    for (const auto& line : fs::directory_iterator(entry.path() / "bank0", ec)) {
      std::string line_name = line.path().filename().string();
      if (!line.is_directory() || !line_name.starts_with("line")) continue;
      unsigned offset = static_cast<unsigned>(std::stoul(line_name.substr(4)));
      stale.lines_.push_back(offset);
      if (fs::exists(line.path() / "hog")) stale.hogs_.push_back(offset);
    }
    stale.destroy();
    ++removed;
  }
  return removed;
}

SimChip::SimChip(SimChip&& other) noexcept { *this = std::move(other); }

SimChip& SimChip::operator=(SimChip&& other) noexcept {
  if (this != &other) {
    destroy();
    config_dir_ = std::exchange(other.config_dir_, {});
    label_ = std::move(other.label_);
    num_lines_ = other.num_lines_;
    lines_ = std::exchange(other.lines_, {});
    hogs_ = std::exchange(other.hogs_, {});
    dev_name_ = std::move(other.dev_name_);
    chip_name_ = std::move(other.chip_name_);
    live_ = std::exchange(other.live_, false);
  }
  return *this;
}

SimChip::~SimChip() { destroy(); }

// configfs wants the tree taken down leaves first: the chip offline, then hogs, lines, bank, chip.
void SimChip::destroy() noexcept {
  if (config_dir_.empty()) return;
  if (live_) {
    (void)write_attr(config_dir_ + "/live", "0");
  }
  for (unsigned offset : hogs_) {
    ::rmdir((line_config_dir(config_dir_, offset) + "/hog").c_str());
  }
  for (unsigned offset : lines_) {
    ::rmdir(line_config_dir(config_dir_, offset).c_str());
  }
  ::rmdir((config_dir_ + "/bank0").c_str());
  ::rmdir(config_dir_.c_str());
  config_dir_.clear();
  live_ = false;
}

std::expected<void, std::string> SimChip::set_live(bool live) {
  if (auto written = write_attr(config_dir_ + "/live", live ? "1" : "0"); !written) {
    return written;
  }
  live_ = live;
  if (!live) {
    chip_name_.clear();
    dev_name_.clear();
    return {};
  }
  // Writing live = 1 returns once the platform device has probed, so its names are there now.
  auto dev = read_attr(config_dir_ + "/dev_name");
  if (!dev) return std::unexpected(dev.error());
  auto chip = read_attr(config_dir_ + "/bank0/chip_name");
  if (!chip) return std::unexpected(chip.error());
  dev_name_ = *dev;
  chip_name_ = *chip;
  if (::access(dev_path().c_str(), F_OK) != 0) {
    return std::unexpected(errno_text("chip is live but", dev_path(), errno) +
                           " (is devtmpfs mounted on /dev?)");
  }
  return {};
}

std::string SimChip::line_dir(unsigned offset) const {
  return "/sys/devices/platform/" + dev_name_ + "/" + chip_name_ + "/sim_gpio" + std::to_string(offset);
}

std::expected<void, std::string> SimChip::set_pull(unsigned offset, Pull pull) {
  return write_attr(line_dir(offset) + "/pull", pull == Pull::up ? "pull-up" : "pull-down");
}

std::expected<int, std::string> SimChip::value(unsigned offset) const {
  auto text = read_attr(line_dir(offset) + "/value");
  if (!text) return std::unexpected(text.error());
  if (*text == "0" || *text == "1") return *text == "1" ? 1 : 0;
  return std::unexpected("unexpected value '" + *text + "' in " + line_dir(offset) + "/value");
}

std::expected<void, std::string> SimChip::wait_value(unsigned offset, int expected,
                                                     std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto now_value = value(offset);
    if (!now_value) return std::unexpected(now_value.error());
    if (*now_value == expected) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected("line " + std::to_string(offset) + " of " + label_ + " stayed " +
                             std::to_string(*now_value) + ", expected " + std::to_string(expected) +
                             " within " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::expected<unsigned, std::string> SimChip::sysfs_base() const {
  if (!live_) return std::unexpected("chip " + label_ + " is not live");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/class/gpio", ec)) {
    if (!entry.path().filename().string().starts_with("gpiochip")) continue;
    auto label = read_attr((entry.path() / "label").string());
    if (!label || *label != label_) continue;
    auto base = read_attr((entry.path() / "base").string());
    if (!base) return std::unexpected(base.error());
    return static_cast<unsigned>(std::stoul(*base));
  }
  return std::unexpected("no /sys/class/gpio/gpiochip* with label " + label_ +
                         (ec ? " (" + ec.message() + ")" : std::string()));
}

}  // namespace fg::test
