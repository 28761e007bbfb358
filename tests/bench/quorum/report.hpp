#pragma once
// The quorum benchmark's results and their markdown tables: fieldgate and etcd side by side, one row per
// fsync mode, client count and operation, and the replicas' resident memory after each run.

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tests/bench/quorum/closed_loop.hpp"

namespace fg::test::bench {

enum class System { fieldgate, etcd };
const char* to_string(System system);

struct CellKey {
  bool fsync;
  int clients;
  Op op;
  auto operator<=>(const CellKey&) const = default;
};

struct SystemRun {
  std::string failure;  // why the system could not be run in this mode (empty if it ran)
  std::map<CellKey, CellResult> cells;
  std::map<CellKey, std::string> cell_failures;
  std::vector<long> rss_kib;  // per replica, after the last cell of this mode
};

struct Report {
  std::vector<System> systems;
  std::vector<bool> fsync_modes;  // true first
  std::vector<int> clients;
  std::map<std::pair<System, bool>, SystemRun> runs;

  // True if every requested cell ran without a failed operation.
  bool all_ok() const;
  // The two tables and a list of what failed, in markdown.
  std::string markdown() const;
};

}  // namespace fg::test::bench
