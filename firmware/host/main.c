/*
 * fieldgate-node: the sensor-node firmware built for Linux, speaking on a pty. The same core as the AVR
 * build (firmware/core); this file is the host's main loop: the pty, a clock, the signals, a watchdog.
 *
 *   fieldgate-node --link /tmp/demo/node1 [--interval-ms 1000]
 *
 * The link points at the pty's slave side, which the gateway opens as a serial port ([[serial]] with
 * framing = "cobs"). SIGINT and SIGTERM remove the link and end the program.
 *
 * The watchdog: every turn of the main loop re-arms a two-second ITIMER_REAL. If the loop is stuck (HANG
 * does that on purpose), SIGALRM fires and its handler re-executes this program with the same pty, as a
 * hardware watchdog resets the chip with the same wires attached; the new process announces
 * reset=watchdog. The pty's descriptors survive the exec, so the gateway sees no hang-up.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "firmware/core/command.h"
#include "firmware/core/node.h"
#include "firmware/host/board_host.h"

#define WATCHDOG_SECONDS 2
/* The loop wakes at least this often, so that the watchdog is fed while nothing happens. */
#define MAX_SLEEP_MS 500u

static volatile sig_atomic_t stop_requested;
/* What the watchdog's handler executes, prepared beforehand: a signal handler may only call execv. */
static char* restart_argv[16];
static char restart_fds[32];

static void on_stop(int signo) {
  (void)signo;
  stop_requested = 1;
}

static void on_watchdog(int signo) {
  (void)signo;
  execv("/proc/self/exe", restart_argv);
  _exit(70); /* the exec failed: a reset that did not come back is a dead node */
}

static void feed_watchdog(void) {
  struct itimerval t = {{0, 0}, {WATCHDOG_SECONDS, 0}};
  setitimer(ITIMER_REAL, &t, NULL);
}

static uint32_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/* A new pty in raw mode, its slave published at `link`. Both descriptors stay open: the slave so that the
 * pty keeps its settings until the gateway opens it. */
static int open_pty(const char* link, int* master, int* slave) {
  *master = posix_openpt(O_RDWR | O_NOCTTY);
  if (*master < 0 || grantpt(*master) != 0 || unlockpt(*master) != 0) {
    return -1;
  }
  const char* name = ptsname(*master);
  *slave = name != NULL ? open(name, O_RDWR | O_NOCTTY) : -1;
  if (*slave < 0) {
    return -1;
  }
  struct termios raw;
  if (tcgetattr(*slave, &raw) == 0) {
    cfmakeraw(&raw);
    tcsetattr(*slave, TCSANOW, &raw);
  }
  unlink(link);
  return symlink(name, link);
}

static void usage(void) {
  fprintf(stderr, "usage: fieldgate-node --link PATH [--interval-ms N]\n");
}

int main(int argc, char** argv) {
  const char* link = NULL;
  unsigned long interval_ms = FG_NODE_DEFAULT_INTERVAL_MS;
  uint8_t reset_cause = FG_RESET_POWER_ON;
  int master = -1, slave = -1;
  static const struct option options[] = {{"link", required_argument, NULL, 'l'},
                                          {"interval-ms", required_argument, NULL, 'i'},
                                          {"after-watchdog", required_argument, NULL, 'w'},
                                          {NULL, 0, NULL, 0}};
  for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    char* end = NULL;
    switch (c) {
      case 'l':
        link = optarg;
        break;
      case 'i':
        interval_ms = strtoul(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || interval_ms > FG_COMMAND_INTERVAL_MAX) {
          usage();
          return 2;
        }
        break;
      case 'w': /* internal: the watchdog restarted us with the pty of the previous run */
        if (sscanf(optarg, "%d,%d", &master, &slave) != 2) {
          usage();
          return 2;
        }
        reset_cause = FG_RESET_WATCHDOG;
        break;
      default:
        usage();
        return 2;
    }
  }
  if (link == NULL) {
    usage();
    return 2;
  }

  /* An exec from the watchdog's handler starts with the handler's mask: start from a known one. */
  sigset_t stop_signals, unblocked;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigemptyset(&unblocked);
  sigprocmask(SIG_SETMASK, &stop_signals, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_watchdog;
  sigaction(SIGALRM, &sa, NULL);

  if (master < 0 && open_pty(link, &master, &slave) != 0) {
    fprintf(stderr, "fieldgate-node: cannot create the pty at %s: %s\n", link, strerror(errno));
    return 1;
  }
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

  snprintf(restart_fds, sizeof restart_fds, "%d,%d", master, slave);
  int n = 0;
  restart_argv[n++] = argv[0];
  restart_argv[n++] = "--link";
  restart_argv[n++] = (char*)link;
  restart_argv[n++] = "--after-watchdog";
  restart_argv[n++] = restart_fds;
  restart_argv[n] = NULL;

  board_host host;
  fg_board board;
  board_host_init(&board, &host, master);
  static fg_node node;
  fg_node_start(&node, &board, reset_cause, now_ms());
  node.interval_ms = (uint32_t)interval_ms;

  while (!stop_requested) {
    feed_watchdog();
    uint32_t now = now_ms();
    fg_node_poll(&node, now);
    while (node.hang) {
      sigsuspend(&unblocked); /* stuck, on purpose: only the watchdog (or SIGTERM) ends this */
      if (stop_requested) {
        break;
      }
    }
    uint32_t sleep_ms = MAX_SLEEP_MS;
    if (node.interval_ms != 0u) {
      uint32_t since = now - node.last_reading_ms;
      uint32_t left = since >= node.interval_ms ? 0u : node.interval_ms - since;
      sleep_ms = left < sleep_ms ? left : sleep_ms;
    }
    struct pollfd p = {master, POLLIN, 0};
    struct timespec timeout = {(time_t)(sleep_ms / 1000u), (long)(sleep_ms % 1000u) * 1000000L};
    if (ppoll(&p, 1, &timeout, &unblocked) > 0 && (p.revents & POLLIN)) {
      uint8_t buf[256];
      ssize_t got = read(master, buf, sizeof buf);
      for (ssize_t i = 0; i < got; ++i) {
        fg_node_receive(&node, buf[i], now_ms());
      }
    }
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  unlink(link);
  close(slave);
  close(master);
  if (host.dropped != 0u) {
    fprintf(stderr, "fieldgate-node: %lu bytes of output dropped in all\n", (unsigned long)host.dropped);
  }
  return 0;
}
