#pragma once
// FieldgateCluster: three `fieldgate run` processes replicating to each other over UDP on loopback (the
// quorum register), and the one mosquitto broker they all need, for the quorum benchmark.
//
// start() makes a fresh directory under `base`, creates the site key with `fieldgate keygen`, writes one
// TOML config per replica (gateway id, broker, [replication] with node 1..3, its UDP listen address, the
// two peers, the key file, its state directory and fsync on or off, and [control] with its socket), starts
// the three, and returns once every replica answers on its control socket and has taken a write (so a
// quorum works). Any step that fails says which, with the daemon's output: until the daemon supports
// replication and the control socket, this is where the fieldgate side stops, clearly.
//
// Processes are cleaned up as in EtcdCluster: SIGTERM then SIGKILL in stop() and the destructor, and SIGKILL
// as the parent-death signal of each replica. (The broker, started by MosquittoBroker, has the destructor
// only.)

#include <sys/types.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/quorum/kv_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::test::bench {

class FieldgateCluster {
 public:
  static constexpr std::size_t kReplicas = 3;

  explicit FieldgateCluster(std::string binary) : binary_(std::move(binary)) {}
  FieldgateCluster(const FieldgateCluster&) = delete;
  FieldgateCluster& operator=(const FieldgateCluster&) = delete;
  ~FieldgateCluster() { stop(); }

  // `fsync` is the replicas' own `fsync` option.
  OpResult start(const std::filesystem::path& base, bool fsync,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Replica i's control socket.
  const std::vector<std::filesystem::path>& sockets() const noexcept { return sockets_; }
  std::vector<pid_t> pids() const;

  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  OpResult make_key();
  OpResult write_configs(bool fsync);
  OpResult spawn_replicas();
  OpResult wait_until_serving(std::chrono::milliseconds timeout);
  std::string replica_log(std::size_t i) const;

  std::string binary_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<MosquittoBroker> broker_;
  std::vector<std::filesystem::path> sockets_;
  std::array<ChildProcess, kReplicas> replicas_;
};

}  // namespace fg::test::bench
