#pragma once
// ControlClient: the blocking client of the control socket (docs/control-socket.md), for short-lived
// processes such as `fieldgate status` / `get` / `put`. It sends one request at a time and waits for the
// answer with the same id; it does not run a loop and must not be used inside the daemon.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "loop/unique_fd.hpp"

namespace fg::gateway {

class ControlClient {
 public:
  // Connects to the daemon's socket. The error reads "cannot connect to <path>: <reason> - <hint>",
  // the hint being "is fieldgate running?" when nothing listens there. `timeout` bounds a connect to a
  // daemon too busy to accept.
  static std::expected<ControlClient, std::string> connect(
      const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  ControlClient(ControlClient&&) noexcept = default;
  ControlClient& operator=(ControlClient&&) noexcept = default;

  // Sends `request` (an object with a string "op"; an integer "id" is added unless it has one) and
  // waits up to `timeout` for its answer. Returns the whole answer object ({"id", "ok": true, ...}) or
  // an error text: the daemon's "error" for ok:false, or what went wrong with the connection or the
  // wait. Answers to earlier requests that timed out are skipped when they come late. After the
  // daemon closes the connection every request fails.
  std::expected<nlohmann::json, std::string> request(nlohmann::json request,
                                                     std::chrono::milliseconds timeout);

  const std::string& path() const noexcept { return path_; }

  // How the last request() that failed went wrong, for callers that branch on it (the CLI's exit
  // statuses) rather than on the English text.
  enum class Failure {
    none,       // the last request succeeded
    answered,   // the daemon answered ok:false; `code` says why (docs/control-socket.md)
    closed,     // the daemon closed the connection, or it broke, before the answer came
    timed_out,  // no answer within the timeout
    other,      // a bad request, or an answer that was not JSON
  };
  struct LastFailure {
    Failure kind = Failure::none;
    std::string code;  // the daemon's code, for `answered`
  };
  const LastFailure& last_failure() const noexcept { return failure_; }

 private:
  ControlClient(loop::UniqueFd fd, std::string path) noexcept : fd_(std::move(fd)), path_(std::move(path)) {}

  // Fails with a message once the deadline passes or the connection breaks.
  std::expected<void, std::string> send_line(const std::string& line,
                                             std::chrono::steady_clock::time_point deadline);
  // The error in a null-id line the daemon sent before closing the connection, if there is one.
  std::optional<std::string> parting_error() const;
  std::expected<void, std::string> receive_more(std::chrono::steady_clock::time_point deadline,
                                                std::chrono::milliseconds timeout);

  loop::UniqueFd fd_;
  std::string path_;
  std::string input_;  // received bytes not yet consumed as lines
  LastFailure failure_;
  std::int64_t next_id_ = 1;
};

}  // namespace fg::gateway
