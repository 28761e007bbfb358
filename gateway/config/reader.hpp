#pragma once
// The generic half of the config loader: reading typed values out of toml++ tables, with every problem
// collected as a ConfigIssue at the right line, column and key. Private to gateway/config/.

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/config/duration.hpp"

namespace fg::gateway::config_detail {

// Collects issues for one file.
class IssueSink {
 public:
  explicit IssueSink(std::string file) : file_(std::move(file)) {}

  void add(const toml::source_position& where, std::string key, std::string message);
  std::size_t count() const noexcept { return issues_.size(); }
  // The issues in file order: by line, then column, then the order they were found.
  std::vector<ConfigIssue> take();

 private:
  std::string file_;
  std::vector<ConfigIssue> issues_;
};

// "a string", "an integer", ...: the type of a TOML node, for "expected X, got Y".
std::string_view type_name(toml::node_type type) noexcept;

// parent.key, with key in TOML quotes unless it is a bare key: serial[0].channels."bme.t".
std::string join_key(std::string_view parent, std::string_view key);

// A string in double quotes with TOML escapes, for messages: "a\"b", "\n".
std::string quote(std::string_view text);

// True for a non-empty string of [A-Za-z0-9_-]: a gateway id, device name, or bare TOML key.
bool is_identifier(std::string_view text) noexcept;

struct DurationBounds {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max = kMaxDuration;
  bool positive = false;  // 0 is out of range
};

// One TOML table being read. Every accessor marks its key as known; finish() reports the rest as unknown.
// An accessor returns std::nullopt both when the key is absent (no issue) and when its value is bad (one
// issue at the value); has() tells them apart.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, IssueSink& issues)
      : table_(&table), path_(std::move(path)), issues_(&issues) {}

  const toml::table& table() const noexcept { return *table_; }
  const std::string& path() const noexcept { return path_; }
  std::string key_path(std::string_view key) const { return join_key(path_, key); }
  IssueSink& issues() const noexcept { return *issues_; }

  bool has(std::string_view key) const { return table_->contains(key); }
  // The value of a key, marking it known; nullptr when absent.
  const toml::node* find(std::string_view key);
  // Where an issue about key goes: its value, or this table when it is absent.
  toml::source_position where(std::string_view key) const;

  std::optional<std::string> string(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key,
                                      std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                      std::int64_t max = std::numeric_limits<std::int64_t>::max());
  // An integer or a float, finite.
  std::optional<double> number(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::chrono::milliseconds> duration(std::string_view key, DurationBounds bounds);
  // A string that must be one of the names; returns its value.
  template <class E>
  std::optional<E> choice(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> names) {
    const auto text = string(key);
    if (!text) {
      return std::nullopt;
    }
    for (const auto& [name, value] : names) {
      if (name == *text) {
        return value;
      }
    }
    std::string expected;
    for (const auto& [name, value] : names) {
      expected += expected.empty() ? "expected one of " : ", ";
      expected += quote(name);
    }
    error(key, expected + ", got " + quote(*text));
    return std::nullopt;
  }
  // A sub-table.
  std::optional<TableReader> subtable(std::string_view key);

  // An issue about key, at where(key).
  void error(std::string_view key, std::string message);
  // An issue about a key that must be present: at this table.
  void missing(std::string_view key, std::string message = "missing required key");
  // An issue at this table itself.
  void error_here(std::string message);

  // Reports every key no accessor asked for: "unknown key", with a suggestion when one is close.
  void finish();

 private:
  const toml::node* typed(std::string_view key, toml::node_type type, std::string_view expected);
  void wrong_type(std::string_view key, const toml::node& node, std::string_view expected);

  const toml::table* table_;
  std::string path_;
  IssueSink* issues_;
  std::vector<std::string> known_;
};

}  // namespace fg::gateway::config_detail
