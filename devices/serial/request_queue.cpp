#include "devices/serial/request_queue.hpp"

#include <re2/re2.h>

#include <chrono>
#include <utility>

#include "loop/timer.hpp"

namespace fg::devices::serial {

std::expected<std::unique_ptr<RequestQueue>, std::string> RequestQueue::create(
    loop::Loop& loop, const RequestSettings& settings, Hooks hooks) {
  std::unique_ptr<RequestQueue> queue(new RequestQueue(loop, settings, std::move(hooks)));
  if (!queue->reply_pattern_->ok()) {
    return std::unexpected("reply_pattern: " + queue->reply_pattern_->error());
  }
  return queue;
}

RequestQueue::RequestQueue(loop::Loop& loop, const RequestSettings& settings, Hooks hooks)
    : loop_(loop),
      timeout_(settings.timeout),
      reply_pattern_(std::make_unique<re2::RE2>(settings.reply_pattern, re2::RE2::Quiet)),
      hooks_(std::move(hooks)) {}

RequestQueue::~RequestQueue() = default;

std::error_code RequestQueue::push(std::string_view command) {
  if (stopped_) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  if (waiting_.size() >= kMaxWaiting) {
    return std::make_error_code(std::errc::no_buffer_space);
  }
  waiting_.emplace_back(command);
  // A server still running (waiting for a reply, or handing one on: a Reply's receiver may push the next
  // command) takes the command in its turn; otherwise a new one starts and writes it now.
  if (server_.done()) {
    server_ = serve();
    server_.start();
  }
  return {};
}

auto RequestQueue::answer_or_timeout() {
  return loop::from_callback<Answer>([this](loop::Resolve<Answer> resolve) {
    awaiting_.emplace(resolve);
    // The timer is the awaiter's: it is closed when the coroutine resumes, whoever resumed it.
    loop::Timer timeout(loop_);
    timeout.start(timeout_, [this] { hooks_.enter([this] { answer(std::nullopt); }); });
    return timeout;
  });
}

loop::Task<> RequestQueue::serve() {
  while (!stopped_ && !waiting_.empty()) {
    std::string command = std::move(waiting_.front());
    waiting_.pop_front();
    if (auto ec = hooks_.send(command)) {
      // Refused (port closed, write queue full): answered at once as failed rather than left hanging.
      hooks_.reply(Reply{std::move(command), false, ec.message(), std::chrono::system_clock::now()});
      continue;
    }
    Answer answer = co_await answer_or_timeout();
    if (stopped_) {
      co_return;
    }
    Reply reply{std::move(command), answer.has_value(), {}, std::chrono::system_clock::now()};
    if (answer) {
      ++counters_.replies;
      reply.text = std::move(*answer);
    } else {
      ++counters_.timeouts;
      reply.text = hooks_.online() ? "timeout" : "device offline";
    }
    hooks_.reply(std::move(reply));
  }
}

void RequestQueue::answer(Answer answer) {
  if (!awaiting_) {
    return;
  }
  // Resuming runs the coroutine on to its next wait (or its end): nothing of this is used after it.
  auto resolve = std::move(*awaiting_);
  awaiting_.reset();
  resolve(std::move(answer));
}

bool RequestQueue::take_reply(std::string_view line, bool is_reply_frame) {
  if (!awaiting_) {
    return is_reply_frame;  // an unsolicited reply frame is no reading either
  }
  if (!is_reply_frame &&
      !re2::RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *reply_pattern_)) {
    return false;
  }
  answer(std::string(line));
  return true;
}

void RequestQueue::port_closed() {
  answer(std::nullopt);
}

// The hooks stay: stop() may run inside one of them (a Reply's receiver destroying the device), and the
// coroutine checks stopped_ as soon as the hook returns.
void RequestQueue::stop() noexcept {
  stopped_ = true;
  waiting_.clear();
}

}  // namespace fg::devices::serial
