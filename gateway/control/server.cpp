#include "gateway/control/server.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/control/wire.hpp"
#include "loop/pipe_listener.hpp"
#include "loop/stream_connection.hpp"

namespace fg::gateway {

using control_wire::error_line;
using control_wire::is_blank;
using control_wire::kMaxNesting;
using control_wire::nesting_depth;
using control_wire::success_line;
using nlohmann::json;

// One request waiting for its answer. It names its connection by a number that is never reused, so an
// answer for a client that has gone cannot reach a later client, and it holds the server only weakly.
struct ControlServer::Pending {
  std::weak_ptr<State> server;
  std::uint64_t connection = 0;
  json id;
  bool answered = false;

  Pending(std::weak_ptr<State> s, std::uint64_t c, json i)
      : server(std::move(s)), connection(c), id(std::move(i)) {}
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  ~Pending();

  bool answer(bool ok, const json& payload);
};

struct ControlServer::State : std::enable_shared_from_this<State> {
  struct Connection {
    explicit Connection(loop::StreamConnection s) noexcept : stream(std::move(s)) {}
    loop::StreamConnection stream;
    std::string input;        // bytes after the last complete line
    std::size_t pending = 0;  // requests handed to the handler and not answered yet
    bool peer_done = false;   // the client shut down its writing side and waits for the answers
    bool admitted = true;     // false for a client turned away over the connection limit
  };

  State(loop::PipeListener l, Handler h, ControlLimits lim)
      : listener(std::move(l)), handler(std::move(h)), limits(lim) {}

  loop::PipeListener listener;
  Handler handler;
  ControlLimits limits;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;
  std::size_t admitted = 0;
  std::uint64_t next_connection = 1;
  bool closed = false;

  Connection* find(std::uint64_t id) {
    auto it = connections.find(id);
    return it == connections.end() ? nullptr : it->second.get();
  }

  void erase(std::uint64_t id) {
    auto it = connections.find(id);
    if (it == connections.end()) {
      return;
    }
    if (it->second->admitted) {
      --admitted;
    }
    connections.erase(it);  // closes the stream; what was still queued is dropped
  }

  // Closes gracefully: what is queued still goes out, then the client reads EOF.
  void end(std::uint64_t id, Connection& c) {
    if (c.stream.end()) {
      erase(id);  // could not even start the shutdown; the stream is closed already
    }
  }

  // Queues a line, dropping the client if it has stopped reading. Returns whether the line was queued
  // on a connection that is still there.
  bool send(std::uint64_t id, Connection& c, std::string line) {
    if (c.stream.ending() || c.stream.write(std::move(line))) {
      return false;
    }
    if (c.stream.write_queue_size() > limits.max_queued_bytes) {
      erase(id);
      return false;
    }
    return true;
  }

  void accept(std::expected<loop::StreamConnection, std::error_code> client) {
    // EMFILE and the like: libuv has already turned the client away (its reserve descriptor trick)
    // and the listener keeps going, so there is nothing to do here.
    if (!client || closed) {
      return;
    }
    std::uint64_t id = next_connection++;
    auto& c = *connections.emplace(id, std::make_unique<Connection>(std::move(*client))).first->second;
    if (admitted >= limits.max_connections) {
      c.admitted = false;
      // Reading starts only so that the close is reported (and the entry erased); end() stops it again.
      (void)c.stream.start_reading([](std::span<const char>) {}, [this, id](std::error_code) { erase(id); });
      (void)c.stream.write(
          error_line(nullptr, "too many connections (at most " + std::to_string(limits.max_connections) + ")",
                     "too_many_connections"));
      end(id, c);
      return;
    }
    ++admitted;
    auto ec = c.stream.start_reading([this, id](std::span<const char> data) { on_data(id, data); },
                                     [this, id](std::error_code) { erase(id); }, [this, id] { on_eof(id); });
    if (ec) {
      erase(id);
    }
  }

  // The client has sent all it will (`printf '{"op":"status"}' | socat - UNIX:...` does this). A last
  // line without its '\n' still counts as a request; the connection ends once every request is answered.
  void on_eof(std::uint64_t id) {
    auto* c = find(id);
    if (c == nullptr) {
      return;
    }
    c->peer_done = true;
    if (!c->input.empty()) {
      std::string last = std::move(c->input);
      c->input.clear();
      auto keep_alive = shared_from_this();  // the handler may destroy the ControlServer
      handle_line(id, last);
      c = closed ? nullptr : find(id);
    }
    if (c != nullptr && c->pending == 0) {
      end(id, *c);
    }
  }

  void on_data(std::uint64_t id, std::span<const char> data) {
    auto* c = find(id);
    if (c == nullptr) {
      return;
    }
    // Split off the complete lines first: the handler may close this connection or the whole server,
    // so nothing of the connection may be touched while it runs.
    std::size_t scan_from = c->input.size();  // what was there before has no '\n'
    c->input.append(data.data(), data.size());
    std::vector<std::string> lines;
    bool overlong = false;
    std::size_t start = 0;
    for (std::size_t nl; (nl = c->input.find('\n', scan_from)) != std::string::npos; scan_from = start) {
      if (nl - start > limits.max_line_bytes) {
        overlong = true;
        break;
      }
      lines.emplace_back(c->input, start, nl - start);
      start = nl + 1;
    }
    c->input.erase(0, start);
    overlong = overlong || c->input.size() > limits.max_line_bytes;
    if (overlong) {
      c->input.clear();
      (void)c->stream.stop_reading();  // the rest of the stream cannot be framed
    } else if (c->input.empty() && c->input.capacity() > 4096) {
      std::string().swap(c->input);  // give a burst's buffer back
    }

    auto keep_alive = shared_from_this();  // the handler may destroy the ControlServer
    for (auto& line : lines) {
      if (closed || find(id) == nullptr) {
        return;
      }
      handle_line(id, line);
    }
    if (overlong && !closed) {
      if (auto* still = find(id); still != nullptr) {
        (void)send(id, *still,
                   error_line(nullptr,
                              "line longer than " + std::to_string(limits.max_line_bytes) +
                                  " bytes; closing the connection",
                              "line_too_long"));
        end(id, *still);
      }
    }
  }

  void handle_line(std::uint64_t id, std::string_view line) {
    auto& c = *find(id);
    if (is_blank(line)) {
      return;  // a stray empty line (an interactive user pressing Enter) is not worth an error
    }
    if (nesting_depth(line) > kMaxNesting) {
      (void)send(id, c, error_line(nullptr, "request nested more than 64 levels deep", "malformed"));
      return;
    }
    json request;
    try {
      request = json::parse(line);
    } catch (const json::exception& e) {
      (void)send(id, c, error_line(nullptr, std::string("invalid JSON: ") + e.what(), "malformed"));
      return;
    }
    if (!request.is_object()) {
      (void)send(id, c, error_line(nullptr, "a request must be a JSON object", "malformed"));
      return;
    }
    auto op = request.find("op");
    if (op == request.end()) {
      (void)send(id, c, error_line(nullptr, "request has no \"op\"", "malformed"));
      return;
    }
    json request_id = request.contains("id") ? request["id"] : json(nullptr);
    if (!op->is_string()) {
      (void)send(id, c, error_line(request_id, "unknown op", "unknown_op"));
      return;
    }
    if (c.pending >= limits.max_pending_per_connection) {
      // Refused before the handler sees it: a client cannot queue unbounded work (register operations)
      // through one connection. It is told at once, so nothing is dropped without an answer.
      (void)send(id, c,
                 error_line(request_id,
                            "busy: " + std::to_string(c.pending) +
                                " requests of this connection are still in progress (at most " +
                                std::to_string(limits.max_pending_per_connection) +
                                "); send it again once some are answered",
                            "busy"));
      return;
    }
    ++c.pending;
    Responder respond(std::make_shared<Pending>(weak_from_this(), id, std::move(request_id)));
    // Exceptions must not reach libuv; a handler that throws (nlohmann's at() on a missing field) has
    // still answered something meaningful.
    try {
      handler(request, respond);  // `keep_alive` in on_data keeps it alive even if it closes the server
    } catch (const std::exception& e) {
      respond.fail(std::string("internal error: ") + e.what(), "internal_error");
    } catch (...) {
      respond.fail("internal error", "internal_error");
    }
  }

  bool answer(std::uint64_t id, const json& request_id, bool ok, const json& payload) {
    auto* c = find(id);
    if (c == nullptr) {
      return false;
    }
    --c->pending;
    bool sent = send(id, *c,
                     ok ? success_line(request_id, payload)
                        : error_line(request_id, payload["error"].get_ref<const std::string&>(),
                                     payload["code"].get_ref<const std::string&>()));
    if (auto* still = find(id); still != nullptr && still->peer_done && still->pending == 0) {
      end(id, *still);
    }
    return sent;
  }
};

ControlServer::Pending::~Pending() {
  if (!answered) {
    (void)answer(false, json{{"error", "no answer"}, {"code", "no_answer"}});
  }
}

bool ControlServer::Pending::answer(bool ok, const json& payload) {
  if (answered) {
    return false;
  }
  answered = true;
  auto state = server.lock();
  return state != nullptr && state->answer(connection, id, ok, payload);
}

bool ControlServer::Responder::operator()(nlohmann::json result_fields) const {
  return pending_ != nullptr && pending_->answer(true, result_fields);
}

bool ControlServer::Responder::fail(std::string error, std::string code) const {
  return pending_ != nullptr &&
         pending_->answer(false, json{{"error", std::move(error)}, {"code", std::move(code)}});
}

std::expected<ControlServer, std::error_code> ControlServer::open(loop::Loop& loop, const std::string& path,
                                                                  Handler handler, ControlLimits limits) {
  auto listener = loop::PipeListener::bind(loop, path);
  if (!listener) {
    return std::unexpected(listener.error());
  }
  auto state = std::make_shared<State>(std::move(*listener), std::move(handler), limits);
  // The listener belongs to the state, so its callback can hold the state by a plain pointer.
  auto ec = state->listener.listen(
      [s = state.get()](std::expected<loop::StreamConnection, std::error_code> client) {
        s->accept(std::move(client));
      });
  if (ec) {
    return std::unexpected(ec);
  }
  return ControlServer(std::move(state));
}

ControlServer& ControlServer::operator=(ControlServer&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

void ControlServer::close() noexcept {
  if (state_ == nullptr || state_->closed) {
    return;
  }
  state_->closed = true;
  state_->listener.close();
  state_->connections.clear();
  state_->admitted = 0;
}

std::size_t ControlServer::connection_count() const noexcept {
  return state_ == nullptr ? 0 : state_->admitted;
}

const std::string& ControlServer::path() const noexcept {
  static const std::string none;
  return state_ == nullptr ? none : state_->listener.path();
}

}  // namespace fg::gateway
