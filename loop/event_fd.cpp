#include "loop/event_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include "loop/fd_watch.hpp"

namespace fg::loop {

struct EventFd::State {
  FdWatch watch;
  Callback callback;

  void on_readable() {
    std::uint64_t count = 0;
    if (::read(watch.fd.get(), &count, sizeof count) != sizeof count) {
      return;  // EAGAIN: another reader (or a spurious wake-up) took the count
    }
    if (callback) {
      auto run = callback;
      run(count);
    }
  }
};

EventFd::EventFd(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
EventFd::EventFd(EventFd&&) noexcept = default;
EventFd& EventFd::operator=(EventFd&&) noexcept = default;
EventFd::~EventFd() = default;

std::expected<EventFd, std::error_code> EventFd::create(Loop& loop) {
  auto watch = FdWatch::adopt(loop, ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!watch) {
    return std::unexpected(watch.error());
  }
  return EventFd(std::make_unique<State>(State{std::move(*watch), {}}));
}

std::error_code EventFd::start(Callback callback) {
  state_->callback = std::move(callback);
  return state_->watch.poll.start(PollEvents::readable,
                                  [s = state_.get()](std::error_code, PollEvents) { s->on_readable(); });
}

std::error_code EventFd::stop() noexcept {
  return state_->watch.poll.stop();
}

std::error_code EventFd::notify(std::uint64_t count) const noexcept {
  if (::write(state_->watch.fd.get(), &count, sizeof count) != sizeof count) {
    return errno_error();
  }
  return {};
}

int EventFd::fd() const noexcept {
  return state_->watch.fd.get();
}

}  // namespace fg::loop
