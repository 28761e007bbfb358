// The replicated register beside the store users would pick instead (issue 4): three fieldgate replicas
// (multi-writer ABD over majority quorums, UDP between the replicas, fdatasync group commit) and a
// three-member etcd 3.4 cluster (Raft), all on 127.0.0.1.
//
//   build/release/tests/bench/bench_quorum [--seconds 5] [--clients 1,64] [--only etcd|fieldgate]
//       [--fieldgate-binary PATH] [--etcd-binary /usr/bin/etcd] [--state-dir-base DIR] [--keys 100]
//
// For each system, with fdatasync on and off, and with each number of clients, it measures writes for
// --seconds and then reads for --seconds. Clients are closed-loop (the next operation goes out when the
// previous one returned), each on its own thread with its own connection, client i talking to replica
// i % 3; keys are picked at random among --keys, values are 64 bytes. Reads are linearizable on both sides:
// etcd's default Range, which confirms with a quorum that its member is up to date, and the register's ABD
// read, which asks a majority. It prints p50 / p99 latency and throughput side by side as a markdown
// table, then each replica's VmRSS after the runs of a mode.
//
// fdatasync "off": etcd 3.4 has no switch to turn fsync off, so in that mode both systems keep their state
// on tmpfs (/dev/shm), where fdatasync returns at once; fieldgate gets `fsync = false` as well. "On": the
// state is under --state-dir-base (default: the system's temporary directory), which should be a disk.
//
// Cleanup: every process started here is stopped (SIGTERM, then SIGKILL) by its owner's destructor, on
// success, failure or Ctrl-C (SIGINT / SIGTERM / SIGHUP stop the load and unwind); each replica also dies
// with the benchmark through its parent-death signal. At the end the benchmark checks that it has no
// child process left and fails if it has.

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/bench/quorum/closed_loop.hpp"
#include "tests/bench/quorum/control_client.hpp"
#include "tests/bench/quorum/etcd_client.hpp"
#include "tests/bench/quorum/etcd_cluster.hpp"
#include "tests/bench/quorum/fieldgate_cluster.hpp"
#include "tests/bench/quorum/process_tools.hpp"
#include "tests/bench/quorum/report.hpp"

namespace {

using namespace fg::test::bench;

struct Options {
  int seconds = 5;
  std::vector<int> clients = {1, 64};
  std::vector<System> systems = {System::fieldgate, System::etcd};
  std::string fieldgate_binary = FG_FIELDGATE_BINARY;
  std::string etcd_binary = "/usr/bin/etcd";
  std::filesystem::path state_dir_base = std::filesystem::temp_directory_path();
  int keys = 100;
};

constexpr const char* kTmpfs = "/dev/shm";
constexpr std::size_t kValueBytes = 64;

const char* kUsage =
    "usage: bench_quorum [--seconds N] [--clients N,N,...] [--only etcd|fieldgate]\n"
    "                    [--fieldgate-binary PATH] [--etcd-binary PATH] [--state-dir-base DIR] [--keys N]\n";

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h" || i + 1 >= argc) {
      return std::nullopt;
    }
    std::string value = argv[++i];
    if (flag == "--seconds") {
      options.seconds = std::atoi(value.c_str());
    } else if (flag == "--keys") {
      options.keys = std::atoi(value.c_str());
    } else if (flag == "--clients") {
      options.clients.clear();
      std::stringstream list(value);
      for (std::string item; std::getline(list, item, ',');) {
        options.clients.push_back(std::atoi(item.c_str()));
        if (options.clients.back() <= 0) {
          return std::nullopt;
        }
      }
    } else if (flag == "--only" && (value == "etcd" || value == "fieldgate")) {
      options.systems = {value == "etcd" ? System::etcd : System::fieldgate};
    } else if (flag == "--fieldgate-binary") {
      options.fieldgate_binary = value;
    } else if (flag == "--etcd-binary") {
      options.etcd_binary = value;
    } else if (flag == "--state-dir-base") {
      options.state_dir_base = value;
    } else {
      return std::nullopt;
    }
  }
  if (options.seconds <= 0 || options.keys <= 0 || options.clients.empty()) {
    return std::nullopt;
  }
  return options;
}

// The first line `PROGRAM --version` prints ("etcd Version: 3.4.23"), or "" if it prints nothing.
std::string version_line(const std::string& program, const std::vector<std::string>& args) {
  fg::test::TempDir dir;
  fg::test::ChildProcess process;
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  if (!process.spawn(argv, dir / "version") || !process.wait_exit(std::chrono::seconds(10))) {
    return "";
  }
  std::ifstream in(dir / "version");
  std::string line;
  std::getline(in, line);
  return line;
}

// The processes whose parent is this one (running or not yet reaped), by pid.
std::vector<pid_t> own_children() {
  std::vector<pid_t> children;
  auto close_dir = [](DIR* dir) { ::closedir(dir); };
  std::unique_ptr<DIR, decltype(close_dir)> proc(::opendir("/proc"), close_dir);
  while (dirent* entry = proc ? ::readdir(proc.get()) : nullptr) {
    pid_t pid = std::atoi(entry->d_name);
    if (pid <= 0) {
      continue;
    }
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) {
      continue;
    }
    std::istringstream fields(stat.substr(close_paren + 2));
    std::string state;
    pid_t parent = 0;
    fields >> state >> parent;
    if (parent == ::getpid()) {
      children.push_back(pid);
    }
  }
  return children;
}

// A running cluster as the load sees it: a new client of replica i, and the replicas' processes.
struct Replicas {
  std::function<std::unique_ptr<KvClient>(std::size_t)> client;
  std::vector<pid_t> pids;
};

void log_cell(System system, const CellKey& key, const std::expected<CellResult, std::string>& cell) {
  std::string what = std::string(to_string(system)) + " fsync " + (key.fsync ? "on " : "off") + " " +
                     std::to_string(key.clients) + " clients " + (key.op == Op::put ? "write" : "read ");
  if (!cell) {
    std::fprintf(stderr, "%s: failed: %s\n", what.c_str(), cell.error().c_str());
    return;
  }
  std::fprintf(stderr, "%s: %8.0f ops/s, p50 %.2f ms, p99 %.2f ms, %llu errors%s%s\n", what.c_str(),
               cell->throughput(), cell->percentile_us(50) / 1000, cell->percentile_us(99) / 1000,
               static_cast<unsigned long long>(cell->errors), cell->errors ? ", the first: " : "",
               cell->first_error.c_str());
}

// Every cell of one system in one fsync mode, on a cluster that is already serving.
void run_cells(System system, bool fsync, const Options& options, const Replicas& replicas, SystemRun& run) {
  // Every key gets a value first, so that no read finds nothing.
  std::vector<std::unique_ptr<KvClient>> writers;
  for (std::size_t r = 0; r < 3; ++r) {
    writers.push_back(replicas.client(r));
  }
  for (int k = 0; k < options.keys; ++k) {
    if (auto put = writers[static_cast<std::size_t>(k) % 3]->put(key_name(k), make_value(kValueBytes, 0, 0));
        !put) {
      run.failure = "writing the initial values: " + put.error();
      return;
    }
  }
  writers.clear();
  for (int n : options.clients) {
    for (Op op : {Op::put, Op::get}) {
      if (interrupted()) {
        return;
      }
      std::vector<std::unique_ptr<KvClient>> clients;
      for (int i = 0; i < n; ++i) {
        clients.push_back(replicas.client(static_cast<std::size_t>(i) % 3));
      }
      Workload workload{op, std::chrono::seconds(options.seconds), options.keys, kValueBytes};
      auto cell = run_closed_loop(clients, workload);
      CellKey key{fsync, n, op};
      log_cell(system, key, cell);
      if (cell) {
        run.cells[key] = std::move(*cell);
      } else {
        run.cell_failures[key] = cell.error();
      }
    }
  }
  for (pid_t pid : replicas.pids) {
    run.rss_kib.push_back(vm_rss_kib(pid));
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

SystemRun run_system(System system, bool fsync, const Options& options) {
  SystemRun run;
  auto start = std::chrono::steady_clock::now();
  const char* name = to_string(system);
  const char* mode = fsync ? "on" : "off";
  std::filesystem::path base = fsync ? options.state_dir_base : std::filesystem::path(kTmpfs);
  std::fprintf(stderr, "%s, fsync %s: starting 3 replicas with their state under %s\n", name, mode,
               base.c_str());
  // The cluster object lives in this block only: leaving it stops the replicas, whatever happened.
  {
    EtcdCluster etcd(options.etcd_binary);
    FieldgateCluster fieldgate(options.fieldgate_binary);
    OpResult started = system == System::etcd ? etcd.start(base) : fieldgate.start(base, fsync);
    if (started) {
      std::fprintf(stderr, "%s, fsync %s: serving after %.1f s\n", name, mode, seconds_since(start));
      Replicas replicas;
      if (system == System::etcd) {
        replicas = {[&](std::size_t i) { return std::make_unique<EtcdClient>(etcd.endpoints()[i]); },
                    etcd.pids()};
      } else {
        replicas = {[&](std::size_t i) { return std::make_unique<ControlClient>(fieldgate.sockets()[i]); },
                    fieldgate.pids()};
      }
      run_cells(system, fsync, options, replicas, run);
    } else {
      run.failure = started.error();
    }
  }
  if (!run.failure.empty()) {
    std::fprintf(stderr, "%s, fsync %s: %s\n", name, mode, run.failure.c_str());
  }
  std::fprintf(stderr, "%s, fsync %s: replicas stopped, %.1f s in all\n", name, mode, seconds_since(start));
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse_options(argc, argv);
  if (!options) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  install_interrupt_handlers();
  if (!on_tmpfs(kTmpfs)) {
    std::fprintf(stderr, "%s is not a tmpfs, so the fsync-off mode cannot be run as described\n", kTmpfs);
    return 1;
  }
  std::error_code error;
  std::filesystem::create_directories(options->state_dir_base, error);
  bool base_on_tmpfs = on_tmpfs(options->state_dir_base);

  Report report;
  report.systems = options->systems;
  report.fsync_modes = {true, false};
  report.clients = options->clients;
  for (bool fsync : report.fsync_modes) {
    for (System system : report.systems) {
      if (!interrupted()) {
        report.runs[{system, fsync}] = run_system(system, fsync, *options);
      }
    }
  }

  std::string etcd_version = version_line(options->etcd_binary, {"--version"});
  std::printf("## Replicated register: fieldgate beside etcd, 3 replicas each on 127.0.0.1\n\n");
  std::printf(
      "%d s per cell, writes then reads; closed-loop clients, each with its own connection, client i on "
      "replica i %% 3; %d keys picked at random, %zu-byte values; linearizable reads on both sides.\n"
      "etcd: %s, gRPC KV.Put / KV.Range (serializable = false). fieldgate: %s, control socket put / get.\n"
      "fsync on: state under %s (%s). fsync off: state on %s (tmpfs, where fdatasync is free) for both, "
      "since "
      "etcd 3.4 cannot turn fsync off; fieldgate also has fsync = false there.\n\n",
      options->seconds, options->keys, kValueBytes,
      etcd_version.empty() ? "version unknown" : etcd_version.c_str(), options->fieldgate_binary.c_str(),
      options->state_dir_base.c_str(),
      base_on_tmpfs ? "a tmpfs: the fsync-on numbers are NOT disk numbers" : "not a tmpfs", kTmpfs);
  std::printf("%s", report.markdown().c_str());
  std::fflush(stdout);

  // Every cluster is gone by now; a child still here would be a leak of this program.
  auto left = own_children();
  if (!left.empty()) {
    std::fprintf(stderr, "child processes left behind: %zu (first pid %d)\n", left.size(), left.front());
    return 1;
  }
  if (interrupted()) {
    std::fprintf(stderr, "interrupted\n");
    return 1;
  }
  return report.all_ok() ? 0 : 1;
}
