#include "tests/bench/quorum/fieldgate_cluster.hpp"

#include <signal.h>

#include <algorithm>
#include <thread>

#include "tests/bench/quorum/control_client.hpp"
#include "tests/bench/quorum/process_tools.hpp"

namespace fg::test::bench {

using namespace std::chrono_literals;

namespace {

// A TOML basic string holding `text`.
std::string toml_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  return quoted + "\"";
}

std::string address(std::uint16_t port) {
  return toml_string("127.0.0.1:" + std::to_string(port));
}

}  // namespace

OpResult FieldgateCluster::start(const std::filesystem::path& base, bool fsync,
                                 std::chrono::milliseconds timeout) {
  stop();
  std::error_code error;
  if (!std::filesystem::is_regular_file(binary_, error)) {
    return std::unexpected("no fieldgate binary at " + binary_ +
                           " (build the fieldgate target, or pass --fieldgate-binary)");
  }
  dir_ = std::make_unique<TempDir>(base);
  if (!dir_->valid()) {
    return std::unexpected("cannot make a directory under " + base.string());
  }
  broker_ = std::make_unique<MosquittoBroker>();
  OpResult result;
  if (!broker_->start()) {
    result = std::unexpected("mosquitto: " + broker_->last_error());
  }
  if (result) {
    result = make_key();
  }
  if (result) {
    result = write_configs(fsync);
  }
  if (result) {
    result = spawn_replicas();
  }
  if (result) {
    result = wait_until_serving(timeout);
  }
  if (!result) {
    stop();
  }
  return result;
}

OpResult FieldgateCluster::make_key() {
  auto key = dir_->path() / "site.key";
  auto log = dir_->path() / "keygen.log";
  ChildProcess keygen;
  std::string error;
  std::vector<std::string> argv = own_program(binary_);
  argv.insert(argv.end(), {"keygen", key.string()});
  if (!keygen.spawn(dies_with_parent(argv), log, &error)) {
    return std::unexpected("cannot start " + binary_ + ": " + error);
  }
  if (!keygen.wait_exit(30s)) {
    keygen.kill();
    return std::unexpected("`fieldgate keygen` did not finish in 30 s");
  }
  auto status = keygen.status();
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0 || !std::filesystem::exists(key)) {
    return std::unexpected(
        "`fieldgate keygen " + key.string() + "` failed (" + ChildProcess::describe(status) +
        "): does this fieldgate support replication yet? Its output:\n" + tail_of_file(log));
  }
  return {};
}

OpResult FieldgateCluster::write_configs(bool fsync) {
  std::vector<std::uint16_t> ports = free_ports(kReplicas, Protocol::udp);
  if (ports.empty()) {
    return std::unexpected("no free UDP ports on 127.0.0.1");
  }
  sockets_.clear();
  for (std::size_t i = 0; i < kReplicas; ++i) {
    std::string node = std::to_string(i + 1);
    auto state = dir_->path() / ("state-" + node);
    std::error_code error;
    if (!std::filesystem::create_directory(state, error)) {
      return std::unexpected("cannot make " + state.string() + ": " + error.message());
    }
    sockets_.push_back(dir_->path() / ("control-" + node + ".sock"));
    std::string peers;
    for (std::size_t p = 0; p < kReplicas; ++p) {
      if (p != i) {
        peers += std::string(peers.empty() ? "" : ", ") + "{ node = " + std::to_string(p + 1) +
                 ", address = " + address(ports[p]) + " }";
      }
    }
    std::string config =
        "[gateway]\nid = \"bench-" + node + "\"\nlog_level = \"warning\"\nstate_dir = " +
        toml_string((dir_->path() / ("gateway-" + node)).string()) + "\n" +
        "[mqtt]\nhost = \"127.0.0.1\"\nport = " + std::to_string(broker_->port()) + "\n" +
        "[replication]\nnode = " + node + "\nlisten = " + address(ports[i]) + "\n" + "peers = [ " + peers +
        " ]\n" + "key_file = " + toml_string((dir_->path() / "site.key").string()) + "\n" +
        "state_dir = " + toml_string(state.string()) + "\n" + "fsync = " + (fsync ? "true" : "false") + "\n" +
        "[control]\nsocket = " + toml_string(sockets_.back().string()) + "\n";
    write_file(dir_->path() / ("replica-" + node + ".toml"), config);
  }
  return {};
}

OpResult FieldgateCluster::spawn_replicas() {
  for (std::size_t i = 0; i < kReplicas; ++i) {
    std::string node = std::to_string(i + 1);
    std::vector<std::string> argv = own_program(binary_);
    argv.insert(argv.end(), {"run", "--config", (dir_->path() / ("replica-" + node + ".toml")).string()});
    std::string error;
    if (!replicas_[i].spawn(dies_with_parent(argv), dir_->path() / ("replica-" + node + ".log"), &error)) {
      return std::unexpected("cannot start fieldgate replica " + node + ": " + error);
    }
  }
  return {};
}

OpResult FieldgateCluster::wait_until_serving(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::size_t i = 0; i < kReplicas; ++i) {
    // A put through replica i is acknowledged only once a majority stored it, so this proves both the
    // control socket and the replication between the replicas.
    ControlClient client(sockets_[i], 1s);
    std::string last_error = "no control socket yet";
    for (;;) {
      if (interrupted()) {
        return std::unexpected("interrupted while fieldgate was starting");
      }
      for (std::size_t r = 0; r < kReplicas; ++r) {
        if (!replicas_[r].running()) {
          return std::unexpected("fieldgate replica " + std::to_string(r + 1) + " exited at start (" +
                                 ChildProcess::describe(replicas_[r].status()) + "); its output:\n" +
                                 replica_log(r));
        }
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return std::unexpected("fieldgate replica " + std::to_string(i + 1) +
                               " did not serve on its control socket in time (last error: " + last_error +
                               "); its output:\n" + replica_log(i));
      }
      if (std::filesystem::exists(sockets_[i])) {
        auto put = client.put("bench/ready/" + std::to_string(i + 1), "1");
        if (put) {
          break;
        }
        last_error = put.error();
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  return {};
}

std::vector<pid_t> FieldgateCluster::pids() const {
  std::vector<pid_t> pids;
  for (const auto& replica : replicas_) {
    pids.push_back(replica.pid());
  }
  return pids;
}

std::string FieldgateCluster::replica_log(std::size_t i) const {
  return dir_ ? tail_of_file(dir_->path() / ("replica-" + std::to_string(i + 1) + ".log")) : std::string();
}

void FieldgateCluster::stop(std::chrono::milliseconds grace) {
  for (auto& replica : replicas_) {
    replica.signal(SIGTERM);
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& replica : replicas_) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!replica.wait_exit(std::max(left, 0ms))) {
      replica.kill();
    }
  }
  broker_.reset();
  dir_.reset();
  sockets_.clear();
}

}  // namespace fg::test::bench
