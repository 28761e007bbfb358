// A fixed number of register operations against three fieldgate replicas, for counting tools rather than
// clocks (issue 8): run it twice with N and 3N operations under callgrind or strace, and the difference
// divided by 2N is the cost of one operation, with start-up and shutdown cancelled out.
//
//   build/release/tests/bench/bench_quorum_count [--op get|put] [--ops 3000] [--keys 100]
//       [--connections 2] [--depth 32] [--fieldgate-binary PATH] [--start-timeout-seconds 300] [--status no]
//
// The replicas run as bench_quorum's "fsync off" mode runs them (FieldgateCluster: `fsync = false`, state
// on /dev/shm). Every key is written once first, one put at a time through replica 1. Then --ops
// operations go to replica 1's control socket over --connections connections, each sending --depth
// requests at once and waiting for all their replies before the next round, so that replica 1 coordinates
// connections x depth operations in flight, as under bench_quorum's 64 closed-loop clients. Keys are
// taken in turn (not at random), values are 64 bytes. --fieldgate-binary may be a wrapper script that
// runs the daemon under a tool (tests/bench/quorum-callgrind.sh writes one); the generous start-up
// timeout is for that. --status yes prints each replica's status document at the end. Exits 1 if any
// operation fails.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/quorum/control_client.hpp"
#include "tests/bench/quorum/fieldgate_cluster.hpp"
#include "tests/bench/quorum/process_tools.hpp"

namespace {

using namespace fg::test::bench;

struct Options {
  std::string op = "get";
  int ops = 3000;
  int keys = 100;
  int connections = 2;
  int depth = 32;
  std::string fieldgate_binary = FG_FIELDGATE_BINARY;
  int start_timeout_seconds = 300;
  bool status = false;
};

const char* kUsage =
    "usage: bench_quorum_count [--op get|put] [--ops N] [--keys N] [--connections N] [--depth N (at most 64)]\n"
    "                          [--fieldgate-binary PATH] [--start-timeout-seconds N] [--status yes|no]\n";

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      return std::nullopt;
    }
    std::string value = argv[++i];
    if (flag == "--op" && (value == "get" || value == "put")) {
      options.op = value;
    } else if (flag == "--ops") {
      options.ops = std::atoi(value.c_str());
    } else if (flag == "--keys") {
      options.keys = std::atoi(value.c_str());
    } else if (flag == "--connections") {
      options.connections = std::atoi(value.c_str());
    } else if (flag == "--depth") {
      options.depth = std::atoi(value.c_str());
    } else if (flag == "--fieldgate-binary") {
      options.fieldgate_binary = value;
    } else if (flag == "--status") {
      options.status = value == "yes";
    } else if (flag == "--start-timeout-seconds") {
      options.start_timeout_seconds = std::atoi(value.c_str());
    } else {
      return std::nullopt;
    }
  }
  if (options.ops <= 0 || options.keys <= 0 || options.connections <= 0 || options.depth <= 0 ||
      options.depth > 64 || options.start_timeout_seconds <= 0) {
    return std::nullopt;
  }
  return options;
}

std::string key_name(int i) {
  return "bench/k" + std::to_string(i);
}

// One connection's share of the operations: `count` of them, `depth` at a time, keys from `first_key` on.
OpResult run_connection(const Options& options, const std::filesystem::path& socket, int count, int first_key) {
  ControlClient client(socket, std::chrono::seconds(120));
  if (auto connected = client.connect(); !connected) {
    return connected;
  }
  const std::string value(64, 'v');
  int key = first_key;
  for (int done = 0; done < count && !interrupted();) {
    std::vector<nlohmann::json> round;
    for (int i = 0; i < options.depth && done + i < count; ++i, ++key) {
      round.push_back(options.op == "get"
                          ? nlohmann::json{{"op", "get"}, {"key", key_name(key % options.keys)}}
                          : nlohmann::json{{"op", "put"}, {"key", key_name(key % options.keys)}, {"value", value}});
    }
    auto ok = client.pipeline(round);
    if (!ok) {
      return std::unexpected(ok.error());
    }
    if (*ok != round.size()) {
      return std::unexpected(std::to_string(round.size() - *ok) + " of " + std::to_string(round.size()) +
                             " operations in a round failed");
    }
    done += static_cast<int>(round.size());
  }
  return {};
}

// Waits until every replica's status says "serving". A replica that came up after the others had taken a
// write (under a tool, start-up is slow) restores from its peers first and answers nothing during the
// restore's hold (quorum/restorer.hpp), which would leave it out of the operations counted.
OpResult wait_until_all_serve(const FieldgateCluster& cluster, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& socket : cluster.sockets()) {
    ControlClient client(socket, std::chrono::seconds(120));
    for (std::string state; state != "serving";) {
      auto status = client.call({{"op", "status"}});
      if (!status) {
        return std::unexpected(status.error());
      }
      state = status->value(nlohmann::json::json_pointer("/status/replication/state"), std::string());
      if (state != "serving" && std::chrono::steady_clock::now() > deadline) {
        return std::unexpected(socket.string() + ": replication state '" + state + "', not serving in time");
      }
      if (interrupted()) {
        return std::unexpected("interrupted");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return {};
}

int run(const Options& options) {
  FieldgateCluster cluster(options.fieldgate_binary);
  if (auto started = cluster.start("/dev/shm", /*fsync=*/false, std::chrono::seconds(options.start_timeout_seconds));
      !started) {
    std::fprintf(stderr, "%s\n", started.error().c_str());
    return 1;
  }
  if (auto serving = wait_until_all_serve(cluster, std::chrono::seconds(options.start_timeout_seconds));
      !serving) {
    std::fprintf(stderr, "%s\n", serving.error().c_str());
    return 1;
  }
  const auto& socket = cluster.sockets().front();
  {
    ControlClient writer(socket, std::chrono::seconds(120));
    for (int k = 0; k < options.keys; ++k) {
      if (auto put = writer.put(key_name(k), std::string(64, 'k')); !put) {
        std::fprintf(stderr, "writing the keys: %s\n", put.error().c_str());
        return 1;
      }
    }
  }
  std::vector<OpResult> results(static_cast<std::size_t>(options.connections));
  std::vector<std::thread> threads;
  int share = options.ops / options.connections;
  for (int c = 0; c < options.connections; ++c) {
    int count = c + 1 == options.connections ? options.ops - share * c : share;
    threads.emplace_back([&, c, count] { results[static_cast<std::size_t>(c)] = run_connection(options, socket, count, share * c); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (const auto& result : results) {
    if (!result) {
      std::fprintf(stderr, "%s\n", result.error().c_str());
      return 1;
    }
  }
  if (interrupted()) {
    std::fprintf(stderr, "interrupted\n");
    return 1;
  }
  if (options.status) {
    // Each replica's status document: its drop and retransmission counters say whether every replica
    // took part in every operation (a slow one may fall behind and drop queries, which changes its count).
    for (std::size_t r = 0; r < cluster.sockets().size(); ++r) {
      ControlClient client(cluster.sockets()[r], std::chrono::seconds(120));
      auto status = client.call({{"op", "status"}});
      std::printf("replica %zu status: %s\n", r + 1, status ? status->dump().c_str() : status.error().c_str());
    }
  }
  // A replica under a tool writes its counts as it exits, which can take a while.
  cluster.stop(std::chrono::seconds(120));
  std::printf("%d %ss through replica 1 (%d connections x %d in flight) after %d puts of the keys\n", options.ops,
              options.op.c_str(), options.connections, options.depth, options.keys);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse_options(argc, argv);
  if (!options) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  install_interrupt_handlers();
  return run(*options);
}
