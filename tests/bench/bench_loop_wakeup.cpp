// Wake-up cost of the loop/ layer beside a plain epoll loop doing the same work.
//
// The work is an eventfd ping-pong inside one thread: two eventfds A and B; when A is readable, read it
// and write B; when B is readable, read it and write A. Each half is one wake-up: one epoll_wait that
// returns one ready descriptor, one read and one write. The plain version calls epoll directly; the
// others go through libuv and our layer (Poll callbacks, the EventFd handle, and coroutines awaiting
// AsyncPoll). At the end the ratio of each to plain epoll is printed; the goal is at most 1.5.
//
//   build/release/tests/bench/bench_loop_wakeup [--benchmark_repetitions=5]

#include <benchmark/benchmark.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include "loop/async_poll.hpp"
#include "loop/event_fd.hpp"
#include "loop/loop.hpp"
#include "loop/poll.hpp"
#include "loop/task.hpp"
#include "loop/unique_fd.hpp"

namespace {

using fg::loop::UniqueFd;

constexpr int kWakeupsPerIteration = 10'000;

struct EventFdPair {
  UniqueFd a{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  UniqueFd b{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
};

// Reads the counter of `from` and bumps `to`: the work each wake-up does in every variant.
inline void pass(int from, int to) {
  std::uint64_t n = 0;
  benchmark::DoNotOptimize(::read(from, &n, sizeof n));
  n = 1;
  benchmark::DoNotOptimize(::write(to, &n, sizeof n));
}

void BM_PlainEpoll(benchmark::State& state) {
  EventFdPair fds;
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  for (int fd : {fds.a.get(), fds.b.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  for (auto _ : state) {
    std::uint64_t one = 1;
    benchmark::DoNotOptimize(::write(fds.a.get(), &one, sizeof one));
    for (int i = 0; i < kWakeupsPerIteration;) {
      epoll_event events[8];
      int n = ::epoll_wait(ep.get(), events, 8, -1);
      for (int k = 0; k < n; ++k, ++i) {
        int fd = events[k].data.fd;
        pass(fd, fd == fds.a.get() ? fds.b.get() : fds.a.get());
      }
    }
    std::uint64_t drain;
    benchmark::DoNotOptimize(::read(fds.a.get(), &drain, sizeof drain) +
                             ::read(fds.b.get(), &drain, sizeof drain));
  }
  state.SetItemsProcessed(state.iterations() * kWakeupsPerIteration);
}
BENCHMARK(BM_PlainEpoll);

void BM_LoopPoll(benchmark::State& state) {
  fg::loop::Loop loop;
  EventFdPair fds;
  auto pa = fg::loop::Poll::create(loop, fds.a.get());
  auto pb = fg::loop::Poll::create(loop, fds.b.get());
  int count = 0;
  auto on = [&](int from, int to) {
    pass(from, to);
    if (++count == kWakeupsPerIteration) {
      loop.stop();
    }
  };
  pa->start(fg::loop::PollEvents::readable,
            [&](std::error_code, fg::loop::PollEvents) { on(fds.a.get(), fds.b.get()); });
  pb->start(fg::loop::PollEvents::readable,
            [&](std::error_code, fg::loop::PollEvents) { on(fds.b.get(), fds.a.get()); });
  for (auto _ : state) {
    count = 0;
    std::uint64_t one = 1;
    benchmark::DoNotOptimize(::write(fds.a.get(), &one, sizeof one));
    loop.run();
    std::uint64_t drain;
    benchmark::DoNotOptimize(::read(fds.a.get(), &drain, sizeof drain) +
                             ::read(fds.b.get(), &drain, sizeof drain));
  }
  state.SetItemsProcessed(state.iterations() * kWakeupsPerIteration);
  pa->close();
  pb->close();
  (void)loop.close();
}
BENCHMARK(BM_LoopPoll);

void BM_LoopEventFdHandle(benchmark::State& state) {
  fg::loop::Loop loop;
  auto a = fg::loop::EventFd::create(loop);
  auto b = fg::loop::EventFd::create(loop);
  int count = 0;
  auto on = [&](fg::loop::EventFd& next) {
    next.notify();
    if (++count == kWakeupsPerIteration) {
      loop.stop();
    }
  };
  a->start([&](std::uint64_t) { on(*b); });
  b->start([&](std::uint64_t) { on(*a); });
  for (auto _ : state) {
    count = 0;
    a->notify();
    loop.run();
    // One notify is still pending on one of them; the next iteration's callbacks absorb it.
  }
  state.SetItemsProcessed(state.iterations() * kWakeupsPerIteration);
  a->stop();
  b->stop();
  a = std::unexpected(std::error_code());
  b = std::unexpected(std::error_code());
  loop.run_once_nowait();
  (void)loop.close();
}
BENCHMARK(BM_LoopEventFdHandle);

fg::loop::Task<> bounce(fg::loop::AsyncPoll& mine, int other, int wakeups) {
  for (int i = 0; i < wakeups; ++i) {
    co_await mine.readable();
    pass(mine.fd(), other);
  }
}

void BM_LoopCoroutineAwait(benchmark::State& state) {
  fg::loop::Loop loop;
  EventFdPair fds;
  auto pa = fg::loop::AsyncPoll::create(loop, fds.a.get());
  auto pb = fg::loop::AsyncPoll::create(loop, fds.b.get());
  for (auto _ : state) {
    auto ta = bounce(*pa, fds.b.get(), kWakeupsPerIteration / 2);
    auto tb = bounce(*pb, fds.a.get(), kWakeupsPerIteration / 2);
    ta.start();
    tb.start();
    std::uint64_t one = 1;
    benchmark::DoNotOptimize(::write(fds.a.get(), &one, sizeof one));
    loop.run();
    std::uint64_t drain;
    benchmark::DoNotOptimize(::read(fds.a.get(), &drain, sizeof drain) +
                             ::read(fds.b.get(), &drain, sizeof drain));
  }
  state.SetItemsProcessed(state.iterations() * kWakeupsPerIteration);
  pa = std::unexpected(std::error_code());
  pb = std::unexpected(std::error_code());
  loop.run_once_nowait();
  (void)loop.close();
}
BENCHMARK(BM_LoopCoroutineAwait);

// Prints the usual table, then each variant's time per wake-up as a ratio to plain epoll.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type == Run::RT_Iteration && run.iterations > 0 && run.aggregate_name.empty()) {
        ns_per_wakeup_[run.run_name.function_name] =
            run.GetAdjustedRealTime() / kWakeupsPerIteration;  // real time per iteration, in ns
      } else if (run.aggregate_name == "median") {
        ns_per_wakeup_[run.run_name.function_name] = run.GetAdjustedRealTime() / kWakeupsPerIteration;
      }
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto base = ns_per_wakeup_.find("BM_PlainEpoll");
    if (base == ns_per_wakeup_.end()) {
      return;
    }
    std::printf("\nwake-up cost (ns, ratio to plain epoll; goal <= 1.5)\n");
    for (const auto& [name, ns] : ns_per_wakeup_) {
      std::printf("  %-24s %8.1f ns  %.2fx\n", name.c_str(), ns, ns / base->second);
    }
  }

 private:
  std::map<std::string, double> ns_per_wakeup_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
