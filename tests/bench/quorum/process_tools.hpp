#pragma once
// Small tools the quorum benchmark needs around the processes it starts: free loopback ports, a process's
// resident memory, whether a directory is on tmpfs, and a command line whose process dies with ours.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fg::test::bench {

enum class Protocol { tcp, udp };

// `count` distinct ports on 127.0.0.1 that nothing is bound to right now (empty if the kernel gives none).
// Every socket stays open until all are picked, so no port is handed out twice; another process could
// still take one between this call and its use (the caller's start then fails and says so).
std::vector<std::uint16_t> free_ports(std::size_t count, Protocol protocol);

// VmRSS of a process in KiB, from /proc/PID/status; -1 if it cannot be read.
long vm_rss_kib(pid_t pid);

// True if `path` is on a tmpfs, where fdatasync returns at once because there is no disk behind it.
bool on_tmpfs(const std::filesystem::path& path);

// The command line that runs argv with SIGKILL as its parent-death signal (util-linux setpriv, part of
// every Debian system): if the benchmark dies without cleaning up (a crash, kill -9), the kernel ends its
// children too. setpriv execs the program, so the PID stays the program's own.
// Known limit: the signal is tied to the thread that spawned the child, so spawn from the main thread.
std::vector<std::string> dies_with_parent(std::vector<std::string> argv);

// Set by SIGINT / SIGTERM / SIGHUP once install_interrupt_handlers() ran: loads stop and the benchmark
// unwinds normally, so every child process is stopped by its owner's destructor.
std::atomic<bool>& interrupted();
void install_interrupt_handlers();

// The last `max_bytes` of a file (a child's log), for an error message.
std::string tail_of_file(const std::filesystem::path& path, std::size_t max_bytes = 2000);

}  // namespace fg::test::bench
