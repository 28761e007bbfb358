#include "gateway/config/reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fg::gateway::config_detail {

void IssueSink::add(const toml::source_position& where, std::string key, std::string message) {
  issues_.push_back(ConfigIssue{file_, where.line, where.column, std::move(key), std::move(message)});
}

std::vector<ConfigIssue> IssueSink::take() {
  std::stable_sort(issues_.begin(), issues_.end(), [](const ConfigIssue& a, const ConfigIssue& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(issues_);
}

std::string_view type_name(toml::node_type type) noexcept {
  switch (type) {
    case toml::node_type::none:
      break;
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "nothing";
}

bool is_identifier(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04X",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string join_key(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) {
    out += '.';
  }
  out += is_identifier(key) ? std::string(key) : quote(key);
  return out;
}

const toml::node* TableReader::find(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
    known_.emplace_back(key);
  }
  return table_->get(key);
}

toml::source_position TableReader::where(std::string_view key) const {
  if (const toml::node* node = table_->get(key)) {
    return node->source().begin;
  }
  return table_->source().begin;
}

void TableReader::wrong_type(std::string_view key, const toml::node& node, std::string_view expected) {
  issues_->add(node.source().begin, key_path(key),
               "expected " + std::string(expected) + ", got " + std::string(type_name(node.type())));
}

const toml::node* TableReader::typed(std::string_view key, toml::node_type type, std::string_view expected) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    return nullptr;
  }
  if (node->type() != type) {
    wrong_type(key, *node, expected);
    return nullptr;
  }
  return node;
}

std::optional<std::string> TableReader::string(std::string_view key) {
  const toml::node* node = typed(key, toml::node_type::string, "a string");
  if (node == nullptr) {
    return std::nullopt;
  }
  return node->as_string()->get();
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
  const toml::node* node = typed(key, toml::node_type::integer, "an integer");
  if (node == nullptr) {
    return std::nullopt;
  }
  const std::int64_t value = node->as_integer()->get();
  if (value < min || value > max) {
    std::string range;
    if (max == std::numeric_limits<std::int64_t>::max()) {
      range = "must be at least " + std::to_string(min);
    } else if (min == std::numeric_limits<std::int64_t>::min()) {
      range = "must be at most " + std::to_string(max);
    } else {
      range = "must be between " + std::to_string(min) + " and " + std::to_string(max);
    }
    error(key, range + ", got " + std::to_string(value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> TableReader::number(std::string_view key) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    return std::nullopt;
  }
  double value = 0;
  if (const auto* integer = node->as_integer()) {
    value = static_cast<double>(integer->get());
  } else if (const auto* floating = node->as_floating_point()) {
    value = floating->get();
  } else {
    wrong_type(key, *node, "a number");
    return std::nullopt;
  }
  if (!std::isfinite(value)) {
    error(key, std::string("must be a finite number, got ") + (std::isnan(value) ? "nan"
                                                               : value < 0       ? "-inf"
                                                                                 : "inf"));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
  const toml::node* node = typed(key, toml::node_type::boolean, "a boolean");
  if (node == nullptr) {
    return std::nullopt;
  }
  return node->as_boolean()->get();
}

std::optional<std::chrono::milliseconds> TableReader::duration(std::string_view key, DurationBounds bounds) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    return std::nullopt;
  }
  const auto* text = node->as_string();
  if (text == nullptr) {
    // The common mistake is a bare number of seconds; show it written the right way.
    const auto* integer = node->as_integer();
    const std::string example =
        integer != nullptr && integer->get() >= 0 ? std::to_string(integer->get()) + "s" : std::string("30s");
    error(key, "expected a duration string with a unit, such as \"" + example +
                   "\" (units: ms, s, min, h), got " + std::string(type_name(node->type())));
    return std::nullopt;
  }
  auto parsed = parse_duration(text->get());
  if (!parsed) {
    error(key, std::move(parsed).error());
    return std::nullopt;
  }
  if (bounds.positive && parsed->count() == 0) {
    error(key, "must be more than 0s, got " + quote(text->get()));
    return std::nullopt;
  }
  if (*parsed < bounds.min || *parsed > bounds.max) {
    std::string range;
    if (bounds.max == kMaxDuration) {
      range = "must be at least " + format_duration(bounds.min);
    } else {
      range = "must be between " + format_duration(bounds.min) + " and " + format_duration(bounds.max);
    }
    error(key, range + ", got " + quote(text->get()));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<TableReader> TableReader::subtable(std::string_view key) {
  const toml::node* node = typed(key, toml::node_type::table, "a table");
  if (node == nullptr) {
    return std::nullopt;
  }
  return TableReader(*node->as_table(), key_path(key), *issues_);
}

void TableReader::error(std::string_view key, std::string message) {
  issues_->add(where(key), key_path(key), std::move(message));
}

void TableReader::missing(std::string_view key, std::string message) {
  issues_->add(table_->source().begin, key_path(key), std::move(message));
}

void TableReader::error_here(std::string message) {
  issues_->add(table_->source().begin, path_, std::move(message));
}

namespace {

// Levenshtein distance, for suggestions between short key names.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

void TableReader::finish() {
  for (const auto& [key, node] : *table_) {
    const std::string_view name = key.str();
    if (std::find(known_.begin(), known_.end(), name) != known_.end()) {
      continue;
    }
    std::string message = "unknown key";
    // A known key within two edits of a name at least three long is most likely what was meant.
    const std::string* best = nullptr;
    std::size_t best_distance = 3;
    for (const std::string& candidate : known_) {
      if (name.size() < 3) {
        break;
      }
      const std::size_t distance = edit_distance(name, candidate);
      if (distance < best_distance) {
        best = &candidate;
        best_distance = distance;
      }
    }
    if (best != nullptr) {
      message += "; did you mean " + quote(*best) + "?";
    }
    // The key's own position when toml++ recorded one, else its value's.
    const toml::source_position at = key.source().begin.line != 0 ? key.source().begin : node.source().begin;
    issues_->add(at, key_path(name), std::move(message));
  }
}

}  // namespace fg::gateway::config_detail
