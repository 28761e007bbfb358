#include "loop/inotify.hpp"

#include <limits.h>
#include <unistd.h>

#include <cstring>

#include "loop/fd_watch.hpp"

namespace fg::loop {

struct Inotify::State {
  FdWatch watch;
  Callback callback;
  // Set while on_readable() delivers a batch, so a callback that destroys this handle ends the batch.
  bool* alive = nullptr;

  State(FdWatch w) : watch(std::move(w)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (alive != nullptr) {
      *alive = false;
    }
  }

  void on_readable() {
    // Room for many events; a read never splits an event, and the kernel fails with EINVAL if not even
    // one (with a NAME_MAX name) fits, which this size rules out.
    alignas(inotify_event) char buffer[16 * (sizeof(inotify_event) + NAME_MAX + 1)];
    ssize_t length = ::read(watch.fd.get(), buffer, sizeof buffer);
    if (length <= 0 || !callback) {
      return;
    }
    bool still_alive = true;
    alive = &still_alive;
    auto run = callback;
    for (ssize_t offset = 0; offset < length && still_alive;) {
      inotify_event raw;
      std::memcpy(&raw, buffer + offset, sizeof raw);
      const char* name = buffer + offset + sizeof raw;
      // The kernel pads names with NULs up to an aligned length.
      InotifyEvent event{raw.wd, raw.mask, raw.cookie,
                         std::string_view(name, raw.len > 0 ? ::strnlen(name, raw.len) : 0)};
      offset += static_cast<ssize_t>(sizeof raw + raw.len);
      run(event);
    }
    if (still_alive) {
      alive = nullptr;
    }
  }
};

Inotify::Inotify(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
Inotify::Inotify(Inotify&&) noexcept = default;
Inotify& Inotify::operator=(Inotify&&) noexcept = default;
Inotify::~Inotify() = default;

std::expected<Inotify, std::error_code> Inotify::create(Loop& loop) {
  auto watch = FdWatch::adopt(loop, ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!watch) {
    return std::unexpected(watch.error());
  }
  return Inotify(std::make_unique<State>(std::move(*watch)));
}

std::expected<int, std::error_code> Inotify::add_watch(const std::string& path, std::uint32_t mask) {
  int wd = ::inotify_add_watch(state_->watch.fd.get(), path.c_str(), mask);
  if (wd < 0) {
    return std::unexpected(errno_error());
  }
  return wd;
}

std::error_code Inotify::remove_watch(int watch) noexcept {
  return ::inotify_rm_watch(state_->watch.fd.get(), watch) < 0 ? errno_error() : std::error_code();
}

std::error_code Inotify::start(Callback callback) {
  state_->callback = std::move(callback);
  return state_->watch.poll.start(PollEvents::readable,
                                  [s = state_.get()](std::error_code, PollEvents) { s->on_readable(); });
}

std::error_code Inotify::stop() noexcept {
  return state_->watch.poll.stop();
}
int Inotify::fd() const noexcept {
  return state_->watch.fd.get();
}

}  // namespace fg::loop
