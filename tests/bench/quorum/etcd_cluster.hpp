#pragma once
// EtcdCluster: three etcd members on loopback as child processes, for the quorum benchmark.
//
//   EtcdCluster cluster;                                  // nothing runs yet
//   if (auto started = cluster.start("/dev/shm"); !started) { ... started.error() ... }
//   EtcdClient client(cluster.endpoints()[i % 3]);
//   ... cluster.pids() for /proc/PID/status ...
//   cluster.stop();                                       // the destructor does it too
//
// Each member gets a client and a peer URL on free 127.0.0.1 ports, a data directory in a fresh directory
// under `base` (a disk, or a tmpfs such as /dev/shm where fdatasync costs nothing), and the same
// --initial-cluster naming all three. start() returns once every member has taken a write and answered a
// linearizable read, i.e. the cluster has a leader and each member has joined it. Otherwise etcd runs
// with its defaults, as a user who picks it would run it.
//
// No process is left behind: stop() sends SIGTERM and, after a grace period, SIGKILL, and reaps; the
// destructor calls stop(), so an early return or an exception cleans up too; and each member runs with
// SIGKILL as its parent-death signal (dies_with_parent), so even a crash or kill -9 of the benchmark ends
// the members. Their logs are in dir()/member-N.log until stop() removes the directory.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/quorum/kv_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::test::bench {

class EtcdCluster {
 public:
  static constexpr std::size_t kMembers = 3;

  explicit EtcdCluster(std::string binary = "/usr/bin/etcd") : binary_(std::move(binary)) {}
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;
  ~EtcdCluster() { stop(); }

  // Starts the three members and waits until each serves (see above). On failure every member that was
  // started is stopped again, and the error names the member and quotes its log.
  OpResult start(const std::filesystem::path& base,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // "127.0.0.1:PORT" of member i's client URL, for gRPC.
  const std::vector<std::string>& endpoints() const noexcept { return endpoints_; }
  // The members' process ids (-1 for one that is not running).
  std::vector<pid_t> pids() const;
  const std::filesystem::path& dir() const;

  // SIGTERM to every member, SIGKILL to one still running after `grace`; removes the data directory.
  // The grace is short on purpose: a leader stopped together with its followers spends about 7 s trying to
  // hand its leadership to a member that is already gone ("leader transfer took too long") before it
  // exits. The followers exit at once, and the data is thrown away, so nothing is lost by the SIGKILL.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));

 private:
  OpResult spawn_members();
  OpResult wait_until_serving(std::chrono::milliseconds timeout);
  std::string member_log(std::size_t i) const;

  std::string binary_;
  std::unique_ptr<TempDir> dir_;
  std::vector<std::string> endpoints_;
  std::vector<std::string> peer_urls_;
  std::array<ChildProcess, kMembers> members_;
};

}  // namespace fg::test::bench
