// fieldgate-sim: runs the deterministic simulation for any number of seeds, or replays one with a trace.
//
//   fieldgate-sim --seeds 1-100000        run a range (the CI suite runs 1-2000)
//   fieldgate-sim --seed 1234 --trace     replay one seed exactly, printing every event
//   fieldgate-sim --seeds 1-500 --unsafe-skip-write-back   the mutation the suite must catch

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim/simulation.hpp"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: fieldgate-sim [--seed N | --seeds A-B] [--members 1|3|5] [--trace] "
               "[--unsafe-skip-write-back]\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fg::test::sim;
  std::uint64_t first = 1;
  std::uint64_t last = 2000;
  int members = 0;
  bool trace = false;
  bool unsafe = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seed" && i + 1 < argc) {
      first = last = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--seeds" && i + 1 < argc) {
      std::string range = argv[++i];
      auto dash = range.find('-');
      first = std::strtoull(range.c_str(), nullptr, 10);
      last = dash == std::string::npos ? first : std::strtoull(range.c_str() + dash + 1, nullptr, 10);
    } else if (arg == "--members" && i + 1 < argc) {
      members = std::atoi(argv[++i]);
    } else if (arg == "--trace") {
      trace = true;
    } else if (arg == "--unsafe-skip-write-back") {
      unsafe = true;
    } else {
      usage();
      return 2;
    }
  }
  std::uint64_t failures = 0;
  std::uint64_t operations = 0;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    SimOptions options = options_for_seed(seed);
    if (members != 0) {
      options.members = members;
    }
    options.trace = trace;
    options.unsafe_skip_read_write_back = unsafe;
    SimResult result = run_simulation(options);
    operations += result.reads_ok + result.writes_ok;
    if (trace) {
      std::fputs(result.trace.c_str(), stdout);
    }
    if (!result.ok() || first == last) {
      std::printf("seed %llu (%d members): %s\n", static_cast<unsigned long long>(seed), options.members,
                  result.summary().c_str());
    }
    if (!result.ok()) {
      ++failures;
      std::printf("  replay: fieldgate-sim --seed %llu --trace\n", static_cast<unsigned long long>(seed));
    }
  }
  std::printf("%llu seeds, %llu failed, %llu operations completed\n",
              static_cast<unsigned long long>(last - first + 1), static_cast<unsigned long long>(failures),
              static_cast<unsigned long long>(operations));
  return failures == 0 ? 0 : 1;
}
