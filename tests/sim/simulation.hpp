#pragma once
// The deterministic simulation of the quorum register: the unchanged protocol core (quorum::Core) of
// every member, each on its own simulated disk (SimDisk, which loses unsynced writes when it crashes),
// connected by a simulated network, driven by a simulated clock and one seeded random generator.
//
// A run: clients issue concurrent reads and writes through random members while the network drops,
// duplicates, delays, reorders and partitions datagrams, members crash (losing what was not fsynced)
// and restart with a new boot epoch, are paused and resumed, and one may lose its disk entirely (a new
// SD card) and rebuild from its peers. Then the faults stop, everyone comes back, and every key is read
// through every member: those reads must succeed (the protocol recovers by itself) and the whole
// history must be linearizable. Everything follows from the seed, so a failing seed replays exactly.

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/env.hpp"
#include "tests/sim/checker/linearizability.hpp"

namespace fg::test::sim {

using quorum::Millis;

struct Faults {
  double drop = 0.05;       // per datagram
  double duplicate = 0.03;  // per datagram: delivered twice
  Millis max_delay{8};      // uniform 0..max: reorders datagrams
  bool crashes = true;      // members crash and restart, losing unsynced writes
  bool pauses = true;       // members stop processing for a while (SIGSTOP), then catch up
  bool partitions = true;   // the members split into two sides for a while
  bool disk_loss = true;    // at most once per run: a member restarts with an empty disk
  // At most once per run, instead of a random disk loss: the issue-10 schedule. A coordinator's store
  // messages to every member but one (A) are lost for a while, so its writes wait with A's acknowledgement
  // in hand; A is cut from the coordinator, loses its disk, restarts and restores from the others; then the
  // stores get through. A protocol that still counts A's acknowledgement acknowledges writes that only a
  // minority holds.
  bool disk_loss_under_open_write = false;
};

struct SimOptions {
  std::uint64_t seed = 1;
  int members = 3;
  int clients = 4;
  int keys = 2;
  Millis duration{1500};  // of faults and client load, in simulated time
  Faults faults;
  // Members (the highest ids) that are down from the start until the faults stop: with a majority of
  // them, every operation must fail with a clear error and none may return a wrong value.
  int keep_down = 0;
  bool trace = false;  // keep a line per event in SimResult::trace
  // Mutation testing: run the read without its write-back phase, which is not linearizable. The suite
  // uses it to show that the simulation and the checker catch a real protocol bug.
  bool unsafe_skip_read_write_back = false;
};

struct SimResult {
  std::vector<lin::Operation> history;
  lin::Result verdict;
  // Final reads that did not succeed after the faults stopped; empty when the register recovered.
  std::vector<std::string> liveness_failures;
  // Harness-level problems (a callback run twice, an event storm); empty when all is well.
  std::vector<std::string> errors;
  std::uint64_t reads_ok = 0, writes_ok = 0, ops_failed = 0, ops_unknown = 0;
  std::uint64_t crashes = 0, pauses = 0, partitions = 0, disk_losses = 0, events = 0;
  std::uint64_t disk_losses_under_open_writes = 0;  // the issue-10 schedule was set up
  std::vector<std::string> failure_messages;        // the distinct errors failed operations reported (a few)
  std::vector<std::error_code> failure_codes;       // every distinct error code failed operations reported
  std::string trace;

  bool ok() const {
    return verdict.verdict == lin::Verdict::linearizable && liveness_failures.empty() && errors.empty();
  }
  std::string summary() const;
};

SimResult run_simulation(const SimOptions& options);

// The options the seed suite uses for a seed: the member count (1, 3 or 5) and the fault mix vary with
// the seed, so a range of seeds covers them all.
SimOptions options_for_seed(std::uint64_t seed);

}  // namespace fg::test::sim
