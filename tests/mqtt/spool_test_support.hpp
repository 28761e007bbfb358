// Helpers shared by the spool's tests on the simulated disk (test_spool.cpp, test_spool_sync.cpp).
#pragma once

#include <string>
#include <vector>

#include "mqtt/spool.hpp"
#include "tests/storage/sim_disk.hpp"

namespace fg::mqtt::test_support {

inline Publication message(int n, Qos qos = Qos::at_least_once) {
  return {"t/" + std::to_string(n), "payload " + std::to_string(n), qos, false};
}

// Takes every waiting message, handing each out with the next message id; returns their payloads.
inline std::vector<std::string> take_all(Spool& spool, int& next_mid) {
  std::vector<std::string> out;
  while (const Publication* m = spool.front()) {
    out.push_back(m->payload);
    spool.sent(next_mid++);
  }
  return out;
}

inline std::vector<std::string> segment_files(test::SimDisk& disk) {
  std::vector<std::string> out;
  for (const auto& name : disk.names()) {
    if (name.starts_with("seg-") && !name.ends_with(".corrupt")) {
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace fg::mqtt::test_support
