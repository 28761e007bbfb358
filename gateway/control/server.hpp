#pragma once
// ControlServer: the daemon's end of the local control socket (docs/control-socket.md). Clients send
// newline-delimited JSON requests {"id": ..., "op": "...", ...}; each request goes to one handler with
// a Responder that may answer at once or long after the handler returned (a quorum get answers when
// the peers have). Requests on one connection may be pipelined and are answered in whatever order the
// Responders are called; the client matches answers by id.
//
// The server frames, parses and checks requests, answers malformed ones itself, adds "id" and "ok" to
// every answer, and bounds what a client can cost: connections, line length, requests in progress per
// connection and unread output (ControlLimits). Unknown ops are the handler's to refuse
// (respond.fail("unknown op")), since only it knows the ops.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "loop/loop.hpp"

namespace fg::gateway {

struct ControlLimits {
  // Connections served at once; more are accepted, told so in an error line, and closed.
  std::size_t max_connections = 256;
  // Longest request line without its '\n'. A longer one is answered with an error and the connection
  // is closed, because the framing is lost.
  std::size_t max_line_bytes = 64 * 1024;
  // Answers a client has not read yet (beyond what the kernel buffers). Past this the client is taken
  // to be stuck and its connection is closed.
  std::size_t max_queued_bytes = 1024 * 1024;
  // Requests of one connection handed to the handler and not answered yet. One more is answered at once
  // with an error starting "busy:" and not handed to the handler; the connection stays open and the
  // client may send again once answers come back. (Stopping to read the connection instead would hide
  // the overload as a hang, and would hold a cheap "status" behind register operations that may each
  // take the whole operation timeout.) The CLI sends one request per connection; 64 leaves a pipelining
  // script room while one connection can take at most 64 of the register's 1,024 operations in flight.
  std::size_t max_pending_per_connection = 64;
};

class ControlServer {
  struct State;
  struct Pending;

 public:
  // Answers one request, exactly once; copies share that one answer. Calling it after the answer was
  // given, after the client disconnected or after the server closed does nothing and returns false;
  // true means the answer was queued for the client. A request whose every Responder is destroyed
  // unanswered is answered {"ok": false, "error": "no answer"}, so a client never waits forever for a
  // handler that lost it. Use on the loop's thread only.
  class Responder {
   public:
    // A Responder for no request: calling it does nothing (a placeholder for containers).
    Responder() = default;

    // {"id": <id>, "ok": true, ...result_fields}. `result_fields` is an object whose members join the
    // answer ("id" and "ok" in it are ignored); null adds nothing; any other value becomes "result".
    bool operator()(nlohmann::json result_fields = nlohmann::json::object()) const;
    // {"id": <id>, "ok": false, "error": <error>, "code": <code>}: the code names the failure for
    // machines (docs/control-socket.md), the error says it for people.
    bool fail(std::string error, std::string code = "error") const;

   private:
    friend class ControlServer;
    explicit Responder(std::shared_ptr<Pending> pending) noexcept : pending_(std::move(pending)) {}
    std::shared_ptr<Pending> pending_;
  };

  // Called for each well-formed request (a JSON object with a string "op"; "id" may be absent, then
  // the answer's id is null). Exceptions it throws become {"ok": false, "error": "internal error: ..."}.
  using Handler = std::function<void(const nlohmann::json& request, Responder respond)>;

  // Binds `path` (see loop::PipeListener::bind for the errors: EADDRINUSE when a daemon is already
  // serving there) and starts accepting clients.
  static std::expected<ControlServer, std::error_code> open(loop::Loop& loop, const std::string& path,
                                                            Handler handler, ControlLimits limits = {});

  ControlServer(ControlServer&&) noexcept = default;
  ControlServer& operator=(ControlServer&& other) noexcept;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer() { close(); }

  // Stops listening (the socket file is removed) and drops every connection, unanswered requests too.
  // Safe inside the handler; later lines already received are then not handled.
  void close() noexcept;

  // Clients connected now (not counting those being turned away).
  std::size_t connection_count() const noexcept;
  const std::string& path() const noexcept;

 private:
  explicit ControlServer(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace fg::gateway
