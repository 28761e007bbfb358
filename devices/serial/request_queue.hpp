#pragma once
// RequestQueue: the request/response mode of a serial device ([serial.request] in the config). Commands
// are written one at a time: each waits for its reply (the first line that matches reply_pattern, or a
// COBS REPLY frame) or for its timeout, and its Reply is handed on before the next command is written. A
// device answers its commands in order, so a reply can only be matched to its command if no other command
// was written in between. Readings keep flowing while a command waits.
//
// The queue is one coroutine (loop/task.hpp): take the next command, write it, await its reply or its
// timeout, hand on the Reply, go on. It runs while commands wait and ends when none is left.
//
// Known limit: replies are matched to requests in order, so a device that sends a line matching
// reply_pattern of its own accord shifts the matching until a timeout resynchronises it.

#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "devices/command.hpp"
#include "devices/serial/serial_settings.hpp"
#include "loop/await.hpp"
#include "loop/loop.hpp"
#include "loop/task.hpp"

namespace re2 {
class RE2;
}

namespace fg::devices::serial {

struct RequestCounters {
  std::uint64_t replies = 0;
  std::uint64_t timeouts = 0;  // no reply within the timeout, or the port closed first
};

class RequestQueue {
 public:
  // Commands waiting behind the one in progress; more are refused (ENOBUFS).
  static constexpr std::size_t kMaxWaiting = 16;

  struct Hooks {
    // Writes one command to the port; an error means it was not written (and gets a failed Reply).
    std::function<std::error_code(std::string_view command)> send;
    std::function<void(Reply&&)> reply;
    // Whether the port is open: a request without a reply failed by "timeout" or by "device offline".
    std::function<bool()> online;
    // Runs a callback from the loop (the timeout) as an entry into the device that owns the queue, so
    // that the device can be destroyed inside it (see SerialDevice).
    std::function<void(const std::function<void()>&)> enter;
  };

  // Fails when the reply pattern does not compile (the config reader compiles it first).
  static std::expected<std::unique_ptr<RequestQueue>, std::string> create(loop::Loop& loop,
                                                                          const RequestSettings& settings,
                                                                          Hooks hooks);
  RequestQueue(const RequestQueue&) = delete;
  RequestQueue& operator=(const RequestQueue&) = delete;
  ~RequestQueue();

  // Queues a command; it is written at once if no other command waits for its reply.
  std::error_code push(std::string_view command);
  // A line (or a REPLY frame) from the device. True when it was the reply the command in progress waited
  // for, or a REPLY frame nobody waited for: then it is no reading.
  bool take_reply(std::string_view line, bool is_reply_frame);
  // The port closed: the command in progress fails now ("device offline") rather than at its timeout.
  void port_closed();
  // The device is going away: no further writes or Replies, also from inside a Reply being handed on.
  void stop() noexcept;

  const RequestCounters& counters() const noexcept { return counters_; }

 private:
  using Answer = std::optional<std::string>;  // the reply, or nothing (timeout, port closed)

  RequestQueue(loop::Loop& loop, const RequestSettings& settings, Hooks hooks);
  loop::Task<> serve();
  // Resumes with the reply to the command just written, or with nothing after the timeout.
  auto answer_or_timeout();
  void answer(Answer answer);

  loop::Loop& loop_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<re2::RE2> reply_pattern_;
  Hooks hooks_;
  RequestCounters counters_;
  std::deque<std::string> waiting_;
  // Set while the command in progress waits for its answer.
  std::optional<loop::Resolve<Answer>> awaiting_;
  bool stopped_ = false;
  loop::Task<> server_;  // last: its frame refers to everything above
};

}  // namespace fg::devices::serial
