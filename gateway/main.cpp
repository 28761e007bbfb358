#include <signal.h>

#include "gateway/cli.hpp"
#include "loop/signal_fd.hpp"

int main(int argc, char** argv) {
  // Before anything can start a thread (libuv's pool starts on the first getaddrinfo), block the signals
  // the daemon takes through its signalfd, so that no thread ever takes them.
  if (auto ec = fg::loop::block_signals({SIGTERM, SIGINT, SIGHUP, SIGUSR1})) {
    return 1;
  }
  return fg::gateway::run_cli(argc, argv);
}
