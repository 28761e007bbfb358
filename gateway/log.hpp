#pragma once
// Logging to stderr. Under systemd (JOURNAL_STREAM set) each line starts with its syslog priority,
// "<3>" for errors ... "<7>" for debug, which journald turns into the entry's priority; elsewhere the
// line says the level in words. One line per call; no buffering, so nothing is lost on a crash.

#include <fmt/core.h>

#include <optional>
#include <string_view>

namespace fg::gateway {

enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;
std::string_view to_string(LogLevel level) noexcept;

// Lines above `level` are not written. Default: info.
void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;
// Decides between priority prefixes and words; called once at start-up (reads JOURNAL_STREAM).
void detect_journal() noexcept;

void write_log(LogLevel level, std::string_view message) noexcept;

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level <= log_level()) {
    write_log(level, fmt::format(format, std::forward<Args>(args)...));
  }
}

}  // namespace fg::gateway
