#include "tests/bench/quorum/etcd_cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "tests/bench/quorum/etcd_client.hpp"
#include "tests/bench/quorum/process_tools.hpp"

namespace fg::test::bench {

using namespace std::chrono_literals;

OpResult EtcdCluster::start(const std::filesystem::path& base, std::chrono::milliseconds timeout) {
  stop();
  dir_ = std::make_unique<TempDir>(base);
  if (!dir_->valid()) {
    return std::unexpected("cannot make a directory under " + base.string());
  }
  OpResult result = spawn_members();
  if (result) {
    result = wait_until_serving(timeout);
  }
  if (!result) {
    // The logs go with the directory, so the error quotes them first.
    stop();
  }
  return result;
}

OpResult EtcdCluster::spawn_members() {
  std::vector<std::uint16_t> ports = free_ports(2 * kMembers, Protocol::tcp);
  if (ports.empty()) {
    return std::unexpected("no free ports on 127.0.0.1");
  }
  endpoints_.clear();
  peer_urls_.clear();
  std::string initial_cluster;
  for (std::size_t i = 0; i < kMembers; ++i) {
    endpoints_.push_back("127.0.0.1:" + std::to_string(ports[2 * i]));
    peer_urls_.push_back("http://127.0.0.1:" + std::to_string(ports[2 * i + 1]));
    initial_cluster += (i > 0 ? "," : "") + ("m" + std::to_string(i + 1)) + "=" + peer_urls_[i];
  }
  // A token of this run, so that members of two clusters started one after the other never mix.
  std::string token =
      "fieldgate-bench-" + std::to_string(::getpid()) + "-" + dir_->path().filename().string();
  for (std::size_t i = 0; i < kMembers; ++i) {
    std::string name = "m" + std::to_string(i + 1);
    std::string client_url = "http://" + endpoints_[i];
    std::vector<std::string> argv = {
        binary_,
        "--name=" + name,
        "--data-dir=" + (dir_->path() / (name + ".etcd")).string(),
        "--listen-client-urls=" + client_url,
        "--advertise-client-urls=" + client_url,
        "--listen-peer-urls=" + peer_urls_[i],
        "--initial-advertise-peer-urls=" + peer_urls_[i],
        "--initial-cluster=" + initial_cluster,
        "--initial-cluster-state=new",
        "--initial-cluster-token=" + token,
        // Warnings and errors only: etcd logs every request slower than 100 ms at warning level, which is
        // worth seeing in the log when a number looks wrong.
        "--logger=zap",
        "--log-outputs=stderr",
        "--log-level=warn",
    };
    std::string error;
    if (!members_[i].spawn(dies_with_parent(argv),
                           dir_->path() / ("member-" + std::to_string(i + 1) + ".log"), &error)) {
      return std::unexpected("cannot start etcd member " + name + ": " + error);
    }
  }
  return {};
}

OpResult EtcdCluster::wait_until_serving(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::size_t i = 0; i < kMembers; ++i) {
    // A write through member i commits only once there is a leader and i has joined; the read after it
    // is linearizable, so it goes through the ReadIndex path the benchmark measures.
    std::string key = "bench/ready/" + std::to_string(i + 1);
    std::string last_error;
    bool serving = false;
    while (!serving) {
      if (interrupted()) {
        return std::unexpected("interrupted while etcd was starting");
      }
      for (std::size_t m = 0; m < kMembers; ++m) {
        if (!members_[m].running()) {
          return std::unexpected("etcd member m" + std::to_string(m + 1) + " exited at start (" +
                                 ChildProcess::describe(members_[m].status()) + "); its log:\n" +
                                 member_log(m));
        }
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return std::unexpected("etcd member m" + std::to_string(i + 1) +
                               " did not serve in time (last error: " + last_error + "); its log:\n" +
                               member_log(i));
      }
      EtcdClient client(endpoints_[i], 1s);
      auto put = client.put(key, "1");
      std::expected<std::string, std::string> read = put ? client.read(key) : std::unexpected(put.error());
      serving = read && *read == "1";
      if (!serving) {
        last_error = read ? "read back \"" + *read + "\"" : read.error();
        std::this_thread::sleep_for(50ms);
      }
    }
  }
  return {};
}

std::vector<pid_t> EtcdCluster::pids() const {
  std::vector<pid_t> pids;
  for (const auto& member : members_) {
    pids.push_back(member.pid());
  }
  return pids;
}

const std::filesystem::path& EtcdCluster::dir() const {
  static const std::filesystem::path none;
  return dir_ ? dir_->path() : none;
}

std::string EtcdCluster::member_log(std::size_t i) const {
  return dir_ ? tail_of_file(dir_->path() / ("member-" + std::to_string(i + 1) + ".log")) : std::string();
}

void EtcdCluster::stop(std::chrono::milliseconds grace) {
  // All members get SIGTERM at once, so that none waits for the others to go first.
  for (auto& member : members_) {
    member.signal(SIGTERM);
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& member : members_) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!member.wait_exit(std::max(left, 0ms))) {
      member.kill();
    }
  }
  dir_.reset();
}

}  // namespace fg::test::bench
