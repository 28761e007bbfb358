#include "gateway/log.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace fg::gateway {
namespace {

LogLevel g_level = LogLevel::info;
bool g_journal = false;

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::notice:
      return "notice";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  for (auto level : {LogLevel::error, LogLevel::warning, LogLevel::notice, LogLevel::info, LogLevel::debug}) {
    if (name == to_string(level)) {
      return level;
    }
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) noexcept {
  g_level = level;
}
LogLevel log_level() noexcept {
  return g_level;
}

void detect_journal() noexcept {
  g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
}

void write_log(LogLevel level, std::string_view message) noexcept {
  std::string line = g_journal ? fmt::format("<{}>{}\n", static_cast<int>(level), message)
                               : fmt::format("fieldgate: {}: {}\n", to_string(level), message);
  // One write(2) per line, so lines from a dying process are whole.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace fg::gateway
