/*
 * fieldgate-simavr: runs the ATmega328P build of the sensor-node firmware in simavr (libsimavr), with its
 * USART0 on a pty, for the end-to-end tests and the benchmark. Our own small host program: it loads the
 * ELF, bridges the serial line to a pty (line_bridge.c), reports the output pin and resets as events, feeds
 * the ADC, and takes commands from a control FIFO.
 *
 *   fieldgate-simavr --elf fieldgate-node.elf --link DIR/node [--control DIR/ctl] [--adc0-mv 2500] [--fast]
 *
 * Time: the simulated chip runs at 16 MHz of simulated time. By default that is paced to the wall clock
 * (never ahead of it), so that the gateway's timeouts and the firmware's intervals mean the same thing;
 * --fast drops the pacing, for measuring in simulated time.
 *
 * Events, one line each on stdout, with the simulated time in microseconds since the start (it goes on
 * across resets, unlike simavr's own cycle count):
 *   ready link=<path>
 *   pin B5=<0|1> t_us=<t>
 *   reset cause=<watchdog|power-on|external|brownout|unknown> t_us=<t>
 *   stats t_us=<t> tx_bytes=<n> tx_frames=<n> rx_bytes=<n> dropped=<n>
 *
 * Control commands, one per line (the FIFO is opened read-write, so writers may come and go):
 *   adc0 <millivolts>       the voltage on ADC0 (Arduino A0)
 *   to-node <hex>           bytes into the firmware's receiver, now
 *   to-gateway <hex>        bytes towards the gateway, at the next frame boundary
 *   stats                   print a stats event
 *   quit                    end the program, as SIGTERM does
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
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <simavr/avr_adc.h>
#include <simavr/avr_ioport.h>
#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_io.h>
#include <simavr/sim_irq.h>

#include "tests/firmware/simavr/line_bridge.h"

#define MCU "atmega328p"
#define FREQUENCY 16000000u
#define MCUSR_ADDRESS 0x54u /* MCUSR in data space (I/O 0x34 + 0x20) */

typedef struct host {
  avr_t* avr;
  line_bridge bridge;
  int control; /* the control FIFO, or -1 */
  char control_line[4096];
  size_t control_len;
  uint32_t adc0_mv;
  int fast;
  uint64_t cycle_base; /* simulated cycles before the last reset */
  uint64_t last_cycle;
  uint64_t wall_start_ns;
} host;

static volatile sig_atomic_t stop_requested;

static void on_stop(int signo) {
  (void)signo;
  stop_requested = 1;
}

static uint64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Simulated time since the start, across resets. */
static uint64_t sim_us(const host* h) {
  return (h->cycle_base + h->avr->cycle) / (FREQUENCY / 1000000u);
}

static void on_pin(struct avr_irq_t* irq, uint32_t value, void* param) {
  (void)irq;
  host* h = param;
  printf("pin B5=%u t_us=%llu\n", value ? 1u : 0u, (unsigned long long)sim_us(h));
}

static void set_adc0(host* h) {
  avr_raise_irq(avr_io_getirq(h->avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0), h->adc0_mv);
}

static host* the_host; /* for the callbacks simavr calls with the avr_t only */
static void (*core_reset)(avr_t*);
static int reset_seen;

/* Wraps the core's own reset hook, which avr_reset() calls on every reset (power-on and watchdog alike). */
static void on_reset(avr_t* avr) {
  if (core_reset != NULL) {
    core_reset(avr);
  }
  reset_seen = 1;
}

/* After a reset: MCUSR holds the cause (the watchdog sets WDRF after the core's hook ran) until the
 * firmware's start-up code clears it a few instructions later, so this runs after every avr_run(). Newer
 * simavr versions also set the cycle count back to 0 on a reset; the simulated time goes on regardless. */
static void check_reset(host* h) {
  if (h->avr->cycle < h->last_cycle) {
    h->cycle_base += h->last_cycle;
  }
  h->last_cycle = h->avr->cycle;
  if (!reset_seen) {
    return;
  }
  reset_seen = 0;
  uint8_t flags = h->avr->data[MCUSR_ADDRESS];
  const char* cause = (flags & 0x08u)   ? "watchdog"
                      : (flags & 0x04u) ? "brownout"
                      : (flags & 0x02u) ? "external"
                      : (flags & 0x01u) ? "power-on"
                                        : "unknown";
  printf("reset cause=%s t_us=%llu\n", cause, (unsigned long long)sim_us(h));
  set_adc0(h); /* the ADC's inputs are outside the chip: they keep their voltage */
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Decodes hex text into out; returns the byte count, or -1 if the text is not an even number of hex
 * digits. */
static long decode_hex(const char* text, uint8_t* out, size_t cap) {
  size_t n = strlen(text);
  if (n % 2u != 0u || n / 2u > cap) {
    return -1;
  }
  for (size_t i = 0; i < n; i += 2u) {
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1u]);
    if (hi < 0 || lo < 0) {
      return -1;
    }
    out[i / 2u] = (uint8_t)(hi << 4 | lo);
  }
  return (long)(n / 2u);
}

static void print_stats(const host* h) {
  const line_bridge* b = &h->bridge;
  printf("stats t_us=%llu tx_bytes=%llu tx_frames=%llu rx_bytes=%llu dropped=%llu\n",
         (unsigned long long)sim_us(h), (unsigned long long)b->tx_bytes, (unsigned long long)b->tx_frames,
         (unsigned long long)b->rx_bytes, (unsigned long long)b->dropped);
}

static void run_command(host* h, char* line) {
  char* arg = strchr(line, ' ');
  if (arg != NULL) {
    *arg++ = '\0';
  }
  uint8_t bytes[2048];
  long n;
  if (strcmp(line, "adc0") == 0 && arg != NULL) {
    h->adc0_mv = (uint32_t)strtoul(arg, NULL, 10);
    set_adc0(h);
  } else if (strcmp(line, "to-node") == 0 && arg != NULL && (n = decode_hex(arg, bytes, sizeof bytes)) >= 0) {
    line_bridge_inject_to_node(&h->bridge, bytes, (size_t)n);
  } else if (strcmp(line, "to-gateway") == 0 && arg != NULL &&
             (n = decode_hex(arg, bytes, sizeof bytes)) >= 0) {
    line_bridge_inject_to_gateway(&h->bridge, bytes, (size_t)n);
  } else if (strcmp(line, "stats") == 0) {
    print_stats(h);
  } else if (strcmp(line, "quit") == 0) {
    stop_requested = 1;
  } else {
    fprintf(stderr, "fieldgate-simavr: unknown control command '%s'\n", line);
  }
}

static void read_control(host* h) {
  char buf[1024];
  ssize_t n;
  while (h->control >= 0 && (n = read(h->control, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        h->control_line[h->control_len] = '\0';
        run_command(h, h->control_line);
        h->control_len = 0;
      } else if (h->control_len + 1u < sizeof h->control_line) {
        h->control_line[h->control_len++] = buf[i];
      }
    }
  }
}

/* Moves the serial bytes and the control commands; waits up to timeout_ns for the pty or the control
 * FIFO when there is nothing to do. */
static void service(host* h, uint64_t timeout_ns) {
  struct pollfd fds[2] = {{h->bridge.master, POLLIN, 0}, {h->control, POLLIN, 0}};
  if (line_bridge_has_output(&h->bridge)) {
    fds[0].events |= POLLOUT;
  }
  struct timespec timeout = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
  sigset_t unblocked;
  sigemptyset(&unblocked);
  ppoll(fds, h->control >= 0 ? 2 : 1, &timeout, &unblocked);
  line_bridge_service(&h->bridge);
  read_control(h);
  fflush(stdout);
}

/* How far the simulation is ahead of the wall clock, in ns (0 when behind, or with --fast). */
static uint64_t ahead_ns(const host* h) {
  if (h->fast) {
    return 0;
  }
  uint64_t sim_ns = sim_us(h) * 1000u;
  uint64_t real_ns = wall_ns() - h->wall_start_ns;
  return sim_ns > real_ns ? sim_ns - real_ns : 0;
}

/* simavr calls this while the chip sleeps, with the cycles until its next timer event: the time to do I/O,
 * and to wait for the wall clock. */
static void on_sleep(avr_t* avr, avr_cycle_count_t how_long) {
  (void)avr;
  (void)how_long;
  service(the_host, ahead_ns(the_host));
}

static int open_pty(const char* link, int* master, int* slave) {
  *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0 || grantpt(*master) != 0 || unlockpt(*master) != 0) {
    return -1;
  }
  const char* name = ptsname(*master);
  *slave = name != NULL ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
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
  fprintf(stderr, "usage: fieldgate-simavr --elf FILE --link PATH [--control FIFO] [--adc0-mv N] [--fast]\n");
}

int main(int argc, char** argv) {
  const char* elf = NULL;
  const char* link = NULL;
  const char* control = NULL;
  static host h;
  h.control = -1;
  h.adc0_mv = 2500;
  static const struct option options[] = {
      {"elf", required_argument, NULL, 'e'},     {"link", required_argument, NULL, 'l'},
      {"control", required_argument, NULL, 'c'}, {"adc0-mv", required_argument, NULL, 'a'},
      {"fast", no_argument, NULL, 'f'},          {NULL, 0, NULL, 0}};
  for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (c) {
      case 'e':
        elf = optarg;
        break;
      case 'l':
        link = optarg;
        break;
      case 'c':
        control = optarg;
        break;
      case 'a':
        h.adc0_mv = (uint32_t)strtoul(optarg, NULL, 10);
        break;
      case 'f':
        h.fast = 1;
        break;
      default:
        usage();
        return 2;
    }
  }
  if (elf == NULL || link == NULL) {
    usage();
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  /* SIGINT and SIGTERM are taken only inside ppoll, so a stop never interrupts simavr halfway. */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  elf_firmware_t firmware;
  memset(&firmware, 0, sizeof firmware);
  if (elf_read_firmware(elf, &firmware) != 0) {
    fprintf(stderr, "fieldgate-simavr: cannot read %s\n", elf);
    return 1;
  }
  firmware.frequency = FREQUENCY;
  h.avr = avr_make_mcu_by_name(MCU);
  if (h.avr == NULL || avr_init(h.avr) != 0) {
    fprintf(stderr, "fieldgate-simavr: simavr has no %s\n", MCU);
    return 1;
  }
  avr_load_firmware(h.avr, &firmware);
  /* An Arduino Uno or Nano: 5 V supply, the ADC referenced to AVcc. */
  h.avr->vcc = h.avr->avcc = h.avr->aref = 5000;
  the_host = &h;
  h.avr->sleep = on_sleep;
  core_reset = h.avr->reset;
  h.avr->reset = on_reset;
  /* simavr echoes UART output as text lines on its console by default; this line carries binary frames. */
  uint32_t uart_flags = 0;
  avr_ioctl(h.avr, AVR_IOCTL_UART_SET_FLAGS('0'), &uart_flags);

  int master, slave;
  if (open_pty(link, &master, &slave) != 0) {
    fprintf(stderr, "fieldgate-simavr: cannot create the pty at %s: %s\n", link, strerror(errno));
    return 1;
  }
  if (control != NULL && (h.control = open(control, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
    fprintf(stderr, "fieldgate-simavr: cannot open %s: %s\n", control, strerror(errno));
    return 1;
  }
  line_bridge_init(&h.bridge, h.avr, master);
  avr_irq_register_notify(avr_io_getirq(h.avr, AVR_IOCTL_IOPORT_GETIRQ('B'), IOPORT_IRQ_PIN5), on_pin, &h);
  set_adc0(&h);
  printf("ready link=%s\n", link);
  h.wall_start_ns = wall_ns();

  /* Run the chip, stepping out every 1600 cycles (100 us simulated) for I/O, and waiting whenever the
   * simulation is ahead of the wall clock. */
  uint64_t next_service = 0;
  int state = cpu_Running;
  while (!stop_requested && state != cpu_Done && state != cpu_Crashed) {
    state = avr_run(h.avr);
    check_reset(&h);
    uint64_t now = h.cycle_base + h.avr->cycle;
    if (now >= next_service) {
      next_service = now + 1600u;
      service(&h, ahead_ns(&h));
      /* Flow control: while the gateway has not read what the chip sent, the chip's clock stands still,
       * so nothing is lost when the simulation outruns the gateway (with --fast). */
      while (h.bridge.to_gateway.len > sizeof h.bridge.to_gateway.bytes / 2u && !stop_requested) {
        service(&h, 100000000u);
      }
    }
  }
  if (state == cpu_Done || state == cpu_Crashed) {
    fprintf(stderr, "fieldgate-simavr: the simulated chip stopped (%s)\n",
            state == cpu_Done ? "sleeping with interrupts off" : "crashed");
  }
  print_stats(&h);
  avr_terminate(h.avr);
  unlink(link);
  close(slave);
  close(master);
  if (h.control >= 0) {
    close(h.control);
  }
  return state == cpu_Crashed ? 1 : 0;
}
