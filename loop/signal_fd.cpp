#include "loop/signal_fd.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "loop/fd_watch.hpp"

namespace fg::loop {
namespace {

sigset_t make_set(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : signals) {
    sigaddset(&set, sig);
  }
  return set;
}

}  // namespace

std::error_code block_signals(std::initializer_list<int> signals) noexcept {
  sigset_t set = make_set(signals);
  // pthread_sigmask returns the error number instead of setting errno.
  return errno_error(pthread_sigmask(SIG_BLOCK, &set, nullptr));
}

struct SignalFd::State {
  FdWatch watch;
  Callback callback;

  void on_readable() {
    // One signal per wake-up: the poll is level-triggered, so any further pending signal wakes the loop
    // again, and a callback that destroys this handle leaves nothing here to touch a freed State.
    signalfd_siginfo info{};
    if (::read(watch.fd.get(), &info, sizeof info) != sizeof info || !callback) {
      return;
    }
    auto run = callback;
    run(info);
  }
};

SignalFd::SignalFd(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
SignalFd::SignalFd(SignalFd&&) noexcept = default;
SignalFd& SignalFd::operator=(SignalFd&&) noexcept = default;
SignalFd::~SignalFd() = default;

std::expected<SignalFd, std::error_code> SignalFd::create(Loop& loop, std::initializer_list<int> signals) {
  sigset_t blocked;
  pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
  for (int sig : signals) {
    if (sigismember(&blocked, sig) != 1) {
      return std::unexpected(std::make_error_code(std::errc::invalid_argument));
    }
  }
  sigset_t set = make_set(signals);
  auto watch = FdWatch::adopt(loop, ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!watch) {
    return std::unexpected(watch.error());
  }
  return SignalFd(std::make_unique<State>(State{std::move(*watch), {}}));
}

std::error_code SignalFd::start(Callback callback) {
  state_->callback = std::move(callback);
  return state_->watch.poll.start(PollEvents::readable,
                                  [s = state_.get()](std::error_code, PollEvents) { s->on_readable(); });
}

std::error_code SignalFd::stop() noexcept {
  return state_->watch.poll.stop();
}
int SignalFd::fd() const noexcept {
  return state_->watch.fd.get();
}

}  // namespace fg::loop
