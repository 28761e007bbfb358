#pragma once
// SignalFd: signals delivered as data on the loop (signalfd), so a handler is ordinary code with no
// async-signal-safety rules.
//
// A signal reaches a signalfd only while it is blocked in every thread; otherwise the kernel may deliver
// it to any thread that has it unblocked and run its default action (SIGTERM kills the process).
// Threads inherit the creator's mask, so call block_signals() first thing in main, before libuv starts
// its thread pool (getaddrinfo, fs work) or anything else starts a thread.

#include <sys/signalfd.h>

#include <expected>
#include <functional>
#include <initializer_list>
#include <memory>

#include "loop/loop.hpp"

namespace fg::loop {

// Blocks `signals` in the calling thread (and so in every thread it starts later).
std::error_code block_signals(std::initializer_list<int> signals) noexcept;

class SignalFd {
 public:
  using Callback = std::function<void(const signalfd_siginfo& info)>;

  // Fails with EINVAL if any of `signals` is not blocked in the calling thread: such a signal would
  // never reach the descriptor.
  static std::expected<SignalFd, std::error_code> create(Loop& loop, std::initializer_list<int> signals);

  SignalFd(SignalFd&&) noexcept;
  SignalFd& operator=(SignalFd&&) noexcept;
  ~SignalFd();

  std::error_code start(Callback callback);
  std::error_code stop() noexcept;
  int fd() const noexcept;

 private:
  struct State;
  explicit SignalFd(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace fg::loop
