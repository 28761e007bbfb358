#pragma once
// KvClient: one benchmark client of a replicated key-value store (an etcd member over gRPC, a fieldgate
// replica over its control socket). Each client belongs to one thread and has one operation in flight.

#include <expected>
#include <string>

namespace fg::test::bench {

// An error is the reason, as text for the report.
using OpResult = std::expected<void, std::string>;

class KvClient {
 public:
  virtual ~KvClient() = default;

  // Sets up the connection, so that its cost is not counted in the first operation's latency.
  virtual OpResult connect() = 0;
  // Writes `value` under `key` and returns once the store acknowledged it (a quorum has it).
  virtual OpResult put(const std::string& key, const std::string& value) = 0;
  // A linearizable read of `key`; fails if the store has no value for it.
  virtual OpResult get(const std::string& key) = 0;
};

}  // namespace fg::test::bench
