#include "tests/bench/quorum/report.hpp"

#include <cstdio>

namespace fg::test::bench {

const char* to_string(System system) {
  return system == System::fieldgate ? "fieldgate" : "etcd";
}

namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string ms(double us) {
  return format("%.2f", us / 1000.0);
}

// Three cells of the latency table for one system: p50, p99, ops/s (or why they are missing).
std::string latency_cells(const SystemRun* run, const CellKey& key) {
  auto cell = run != nullptr ? run->cells.find(key) : std::map<CellKey, CellResult>::const_iterator();
  if (run == nullptr || cell == run->cells.end()) {
    return " failed | failed | failed |";
  }
  const CellResult& r = cell->second;
  std::string ops = format("%.0f", r.throughput());
  if (r.errors > 0) {
    ops += " (" + std::to_string(r.errors) + " errors)";
  }
  return " " + ms(r.percentile_us(50)) + " | " + ms(r.percentile_us(99)) + " | " + ops + " |";
}

// A list item; the lines after the first (a quoted log) are indented so that they stay in the item.
std::string list_item(const std::string& text) {
  std::string item = "- ";
  for (char c : text) {
    item += c;
    if (c == '\n') {
      item += "  ";
    }
  }
  while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) {
    item.pop_back();
  }
  return item + "\n";
}

}  // namespace

bool Report::all_ok() const {
  for (const auto& [id, run] : runs) {
    if (!run.failure.empty() || !run.cell_failures.empty()) {
      return false;
    }
    for (const auto& [key, cell] : run.cells) {
      if (cell.errors > 0) {
        return false;
      }
    }
  }
  return true;
}

std::string Report::markdown() const {
  std::string out;
  out += "| fsync | clients | op |";
  std::string rule = "|---|---:|---|";
  for (System system : systems) {
    std::string name = to_string(system);
    out += " " + name + " p50 ms | " + name + " p99 ms | " + name + " ops/s |";
    rule += "---:|---:|---:|";
  }
  out += "\n" + rule + "\n";
  for (bool fsync : fsync_modes) {
    for (int n : clients) {
      for (Op op : {Op::put, Op::get}) {
        CellKey key{fsync, n, op};
        out += std::string("| ") + (fsync ? "on" : "off") + " | " + std::to_string(n) + " | " +
               (op == Op::put ? "write" : "read") + " |";
        for (System system : systems) {
          auto run = runs.find({system, fsync});
          out += latency_cells(run == runs.end() ? nullptr : &run->second, key);
        }
        out += "\n";
      }
    }
  }

  out += "\nResident memory (VmRSS) of each replica after its runs, MiB:\n\n";
  out += "| fsync | system | replica 1 | replica 2 | replica 3 |\n|---|---|---:|---:|---:|\n";
  for (bool fsync : fsync_modes) {
    for (System system : systems) {
      out += std::string("| ") + (fsync ? "on" : "off") + " | " + to_string(system) + " |";
      auto run = runs.find({system, fsync});
      for (std::size_t i = 0; i < 3; ++i) {
        bool known = run != runs.end() && i < run->second.rss_kib.size() && run->second.rss_kib[i] >= 0;
        out += known ? " " + format("%.1f", static_cast<double>(run->second.rss_kib[i]) / 1024.0) + " |"
                     : std::string(" - |");
      }
      out += "\n";
    }
  }

  std::string failures;
  for (const auto& [id, run] : runs) {
    std::string where = std::string(to_string(id.first)) + ", fsync " + (id.second ? "on" : "off");
    if (!run.failure.empty()) {
      failures += list_item(where + ": " + run.failure);
    }
    for (const auto& [key, text] : run.cell_failures) {
      failures += list_item(where + ", " + std::to_string(key.clients) + " clients, " +
                            (key.op == Op::put ? "write" : "read") + ": " + text);
    }
    for (const auto& [key, cell] : run.cells) {
      if (cell.errors > 0) {
        failures += list_item(where + ", " + std::to_string(key.clients) + " clients, " +
                              (key.op == Op::put ? "write" : "read") + ": " + std::to_string(cell.errors) +
                              " failed operations, the first: " + cell.first_error);
      }
    }
  }
  if (!failures.empty()) {
    out += "\nFailures:\n\n" + failures;
  }
  return out;
}

}  // namespace fg::test::bench
