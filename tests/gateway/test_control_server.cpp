#include "gateway/control/server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <vector>

#include "loop/poll.hpp"
#include "loop/timer.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unix_client.hpp"

namespace fg::gateway {
namespace {

using nlohmann::json;
using Responder = ControlServer::Responder;

// One test client: a real blocking unix socket, read through a Poll on the test's loop so the server
// (on the same loop) keeps running while the client waits for answers.
struct Client {
  loop::UniqueFd fd;
  std::string partial;
  bool eof = false;
};

class ControlServerTest : public test::LoopTest {
 protected:
  // The standard handler: "ping" answers at once, "slow" parks its Responder in `parked`, "throw"
  // throws, "drop" loses its Responder, "quit" destroys the server; anything else is an unknown op.
  void start(ControlLimits limits = {}) {
    auto opened = ControlServer::open(
        loop, path_,
        [this](const json& request, Responder respond) {
          ++handled;
          const auto& op = request["op"].get_ref<const std::string&>();
          if (op == "ping") {
            respond({{"pong", request.value("n", 0)}});
          } else if (op == "slow") {
            parked.push_back(respond);
          } else if (op == "big") {
            respond({{"data", std::string(32 * 1024, 'b')}});
          } else if (op == "throw") {
            throw std::runtime_error("boom");
          } else if (op == "drop") {
            // The Responder goes out of scope unanswered.
          } else if (op == "quit") {
            server.reset();
          } else {
            respond.fail("unknown op", "unknown_op");
          }
        },
        limits);
    ASSERT_TRUE(opened) << opened.error().message();
    server.emplace(std::move(*opened));
  }

  Client connect() {
    Client c;
    c.fd = test::connect_unix(path_);
    EXPECT_TRUE(c.fd) << "connect: " << std::strerror(errno);
    return c;
  }

  static void send(Client& c, const std::string& text) { ASSERT_TRUE(test::send_all(c.fd.get(), text)); }

  // Runs the loop until `count` more answer lines (or EOF) arrived at `c`; returns them parsed.
  std::vector<json> await_lines(Client& c, std::size_t count, std::vector<std::string>* raw = nullptr) {
    std::vector<json> lines;
    auto poll = loop::Poll::create(loop, c.fd.get());
    EXPECT_TRUE(poll);
    auto take_lines = [&] {
      for (std::size_t nl; lines.size() < count && (nl = c.partial.find('\n')) != std::string::npos;) {
        std::string line = c.partial.substr(0, nl + 1);
        c.partial.erase(0, nl + 1);
        if (raw != nullptr) {
          raw->push_back(line);
        }
        lines.push_back(json::parse(line));
      }
    };
    take_lines();
    if (lines.size() < count && !c.eof) {
      poll->start(loop::PollEvents::readable, [&](std::error_code, loop::PollEvents) {
        char buf[65536];
        ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
          c.eof = true;
        } else {
          c.partial.append(buf, static_cast<std::size_t>(n));
          take_lines();
        }
        if (c.eof || lines.size() >= count) {
          poll->stop();
          loop.stop();
        }
      });
      run_expecting_stop();
    }
    return lines;
  }

  // Runs the loop until the server has closed the connection; returns the answers that came first.
  std::vector<json> await_eof(Client& c) {
    auto lines = await_lines(c, SIZE_MAX);
    EXPECT_TRUE(c.eof);
    return lines;
  }

  void run_until(const std::function<bool()>& done) {
    loop::Timer check(loop);
    check.start(
        std::chrono::milliseconds(1),
        [&] {
          if (done()) {
            loop.stop();
          }
        },
        std::chrono::milliseconds(1));
    run_expecting_stop();
  }

  void TearDown() override {
    parked.clear();
    server.reset();
    LoopTest::TearDown();
  }

  test::TempDir dir_;
  std::string path_ = (dir_ / "control").string();
  std::optional<ControlServer> server;
  std::vector<Responder> parked;
  int handled = 0;
};

TEST_F(ControlServerTest, PipelinedRequestsAreAnsweredOutOfOrderMatchedById) {
  start();
  auto c = connect();
  send(c, R"({"id":"a","op":"slow"})"
          "\n"
          R"({"id":"b","op":"slow"})"
          "\n"
          R"({"id":"c","op":"slow"})"
          "\n");
  run_until([&] { return parked.size() == 3; });
  // Answered after the handler returned, last first, while another request is answered at once.
  EXPECT_TRUE(parked[2]({{"n", 3}}));
  send(c, R"({"id":4,"op":"ping","n":44})"
          "\n");
  auto first = await_lines(c, 2);
  EXPECT_TRUE(parked[0]({{"n", 1}}));
  EXPECT_TRUE(parked[1].fail("no luck"));
  std::vector<std::string> raw;
  auto rest = await_lines(c, 2, &raw);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(first[0], json({{"id", "c"}, {"ok", true}, {"n", 3}}));
  EXPECT_EQ(first[1], json({{"id", 4}, {"ok", true}, {"pong", 44}}));
  EXPECT_EQ(raw[0], R"({"id":"a","ok":true,"n":1})"
                    "\n");  // id and ok come first
  EXPECT_EQ(raw[1], R"({"id":"b","ok":false,"error":"no luck","code":"error"})"
                    "\n");
}

TEST_F(ControlServerTest, APipelineBeyondThePendingCapIsAnsweredBusyAtOnceAndTheConnectionRecovers) {
  start();
  const std::size_t cap = ControlLimits{}.max_pending_per_connection;
  ASSERT_EQ(cap, 64u);  // the default docs/control-socket.md gives reasons for
  auto c = connect();
  std::string pipeline;
  for (int i = 0; i < 1000; ++i) {
    pipeline += R"({"id":)" + std::to_string(i) + R"(,"op":"slow"})" + "\n";
  }
  send(c, pipeline);
  // The first `cap` reach the handler and wait; every later one is refused at once, in order.
  auto refused = await_lines(c, 1000 - cap);
  ASSERT_EQ(refused.size(), 1000 - cap);
  EXPECT_EQ(parked.size(), cap);
  EXPECT_EQ(handled, static_cast<int>(cap));
  for (std::size_t i = 0; i < refused.size(); ++i) {
    EXPECT_EQ(refused[i]["id"], cap + i);
    EXPECT_EQ(refused[i]["ok"], false);
    EXPECT_EQ(refused[i]["error"].get<std::string>().rfind("busy:", 0), 0u) << refused[i].dump();
    EXPECT_EQ(refused[i]["code"], "busy") << refused[i].dump();
  }
  // The waiting ones are answered; then the connection takes requests again.
  for (auto& respond : parked) {
    EXPECT_TRUE(respond());
  }
  auto answered = await_lines(c, cap);
  ASSERT_EQ(answered.size(), cap);
  for (std::size_t i = 0; i < cap; ++i) {
    EXPECT_EQ(answered[i], json({{"id", i}, {"ok", true}}));
  }
  send(c, R"({"id":"after","op":"ping","n":7})"
          "\n");
  auto after = await_lines(c, 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0], json({{"id", "after"}, {"ok", true}, {"pong", 7}}));
  EXPECT_EQ(server->connection_count(), 1u);
}

TEST_F(ControlServerTest, ARespondersAnswerIsGivenOnceAcrossCopies) {
  start();
  auto c = connect();
  send(c, R"({"id":1,"op":"slow"})"
          "\n");
  run_until([&] { return parked.size() == 1; });
  Responder copy = parked[0];
  EXPECT_TRUE(copy({{"first", true}}));
  EXPECT_FALSE(parked[0]({{"second", true}}));
  EXPECT_FALSE(parked[0].fail("third"));
  send(c, R"({"id":2,"op":"ping"})"
          "\n");
  auto lines = await_lines(c, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], json({{"id", 1}, {"ok", true}, {"first", true}}));
  EXPECT_EQ(lines[1]["id"], 2);
  EXPECT_FALSE(Responder()({{"nobody", true}}));
}

TEST_F(ControlServerTest, IdsOfAnyJsonTypeAreEchoed) {
  start();
  auto c = connect();
  send(c, R"({"id":7,"op":"ping"})"
          "\n"
          R"({"id":"x","op":"ping"})"
          "\n"
          R"({"id":{"k":[1,2.5]},"op":"ping"})"
          "\n"
          R"({"id":null,"op":"ping"})"
          "\n"
          R"({"op":"ping"})"
          "\n");
  auto lines = await_lines(c, 5);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["id"], 7);
  EXPECT_EQ(lines[1]["id"], "x");
  EXPECT_EQ(lines[2]["id"], json({{"k", {1, 2.5}}}));
  EXPECT_TRUE(lines[3]["id"].is_null());
  EXPECT_TRUE(lines[4]["id"].is_null());
  for (const auto& line : lines) {
    EXPECT_EQ(line["ok"], true);
  }
}

TEST_F(ControlServerTest, MalformedRequestsGetErrorsAndTheConnectionStaysUsable) {
  start();
  auto c = connect();
  send(c,
       "not json\n"
       "[1,2]\n"
       "\n \r\n"  // blank lines are skipped
       R"({"id":1})"
       "\n"
       R"({"id":2,"op":5})"
       "\n"
       R"({"id":3,"op":"frobnicate"})"
       "\n" +
           std::string(100, '[') +
           "\n"
           R"({"id":4,"op":"ping"})"
           "\r\n");
  auto lines = await_lines(c, 6);
  ASSERT_EQ(lines.size(), 6u);
  for (int i : {0, 1, 2, 5}) {
    EXPECT_TRUE(lines[i]["id"].is_null()) << lines[i];
    EXPECT_EQ(lines[i]["ok"], false) << lines[i];
    EXPECT_EQ(lines[i]["code"], "malformed") << lines[i];
  }
  EXPECT_NE(lines[0]["error"].get<std::string>().find("invalid JSON"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1]["error"], "a request must be a JSON object");
  EXPECT_EQ(lines[2]["error"], "request has no \"op\"");
  EXPECT_EQ(lines[3], json({{"id", 2}, {"ok", false}, {"error", "unknown op"}, {"code", "unknown_op"}}));
  EXPECT_EQ(lines[4], json({{"id", 3}, {"ok", false}, {"error", "unknown op"}, {"code", "unknown_op"}}));
  EXPECT_EQ(lines[5]["error"], "request nested more than 64 levels deep");
  auto last = await_lines(c, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0], json({{"id", 4}, {"ok", true}, {"pong", 0}}));
  EXPECT_EQ(handled, 2);  // frobnicate and ping; malformed requests never reach the handler
}

TEST_F(ControlServerTest, HandlerExceptionsAndLostRespondersStillAnswer) {
  start();
  auto c = connect();
  send(c, R"({"id":1,"op":"throw"})"
          "\n"
          R"({"id":2,"op":"drop"})"
          "\n");
  auto lines = await_lines(c, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            json({{"id", 1}, {"ok", false}, {"error", "internal error: boom"}, {"code", "internal_error"}}));
  EXPECT_EQ(lines[1], json({{"id", 2}, {"ok", false}, {"error", "no answer"}, {"code", "no_answer"}}));
}

TEST_F(ControlServerTest, ALineOfExactlyTheLimitIsServed) {
  start();
  auto c = connect();
  std::string head = R"({"id":1,"op":"ping","pad":")";
  std::string line = head + std::string(64 * 1024 - head.size() - 2, 'p') + "\"}";
  ASSERT_EQ(line.size(), 64u * 1024u);
  send(c, line + "\n");
  auto lines = await_lines(c, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["ok"], true);
}

TEST_F(ControlServerTest, AnOverlongLineIsAnsweredAndTheConnectionClosed) {
  start();
  auto c = connect();
  // A complete request first: it is still answered. The overlong line has no end in sight.
  send(c, R"({"id":1,"op":"ping"})"
          "\n" +
              std::string(64 * 1024 + 1, 'x'));
  auto lines = await_eof(c);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["id"], 1);
  EXPECT_TRUE(lines[1]["id"].is_null());
  EXPECT_EQ(lines[1]["ok"], false);
  EXPECT_NE(lines[1]["error"].get<std::string>().find("line longer than 65536 bytes"), std::string::npos);
  run_until([&] { return server->connection_count() == 0; });
  EXPECT_EQ(handled, 1);
}

TEST_F(ControlServerTest, AnOverlongCompleteLineAlsoEndsTheConnection) {
  start();
  auto c = connect();
  send(c, std::string(70000, ' ') +
              "\n"
              R"({"id":2,"op":"ping"})"
              "\n");
  auto lines = await_eof(c);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0]["ok"].get<bool>());
  EXPECT_EQ(handled, 0);
}

TEST_F(ControlServerTest, ClientGoneBeforeADelayedReplyIsHarmless) {
  start();
  {
    auto c = connect();
    send(c, R"({"id":1,"op":"slow"})"
            "\n");
    run_until([&] { return parked.size() == 1; });
    EXPECT_EQ(server->connection_count(), 1u);
  }  // the client closes its socket
  run_until([&] { return server->connection_count() == 0; });
  EXPECT_FALSE(parked[0]({{"late", true}}));
  // A new client is not answered in the old one's place.
  auto c = connect();
  send(c, R"({"id":1,"op":"ping"})"
          "\n");
  auto lines = await_lines(c, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].count("late"), 0u);
}

TEST_F(ControlServerTest, HalfClosedClientGetsItsDelayedAnswerThenEof) {
  start();
  auto c = connect();
  send(c, R"({"id":1,"op":"slow"})"
          "\n"
          R"({"id":2,"op":"slow"})"
          "\n");
  ASSERT_EQ(::shutdown(c.fd.get(), SHUT_WR), 0);
  run_until([&] { return parked.size() == 2; });
  loop::Timer later(loop);
  later.start(std::chrono::milliseconds(5), [&] {
    EXPECT_TRUE(parked[1]({{"second", true}}));
    EXPECT_TRUE(parked[0]({{"first", true}}));
  });
  auto lines = await_eof(c);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["id"], 2);
  EXPECT_EQ(lines[1]["id"], 1);
}

TEST_F(ControlServerTest, AClientThatEndsWithoutANewlineIsStillAnswered) {
  start();
  auto c = connect();
  send(c, R"({"id":1,"op":"ping"})"
          "\n"
          R"({"id":2,"op":"ping","n":2})");
  ASSERT_EQ(::shutdown(c.fd.get(), SHUT_WR), 0);
  auto lines = await_eof(c);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], json({{"id", 2}, {"ok", true}, {"pong", 2}}));
}

TEST_F(ControlServerTest, ManyConnectionsUpToTheLimitThenTurnedAway) {
  start();
  constexpr std::size_t kLimit = 256;
  std::vector<Client> clients;
  for (std::size_t i = 0; i < kLimit; ++i) {
    clients.push_back(connect());
    loop.run_once_nowait();  // accept now: the listen backlog is smaller than the number of clients
    send(clients.back(), R"({"id":1,"op":"ping","n":)" + std::to_string(i) + "}\n");
  }
  run_until([&] { return handled == static_cast<int>(kLimit); });
  EXPECT_EQ(server->connection_count(), kLimit);
  for (std::size_t i = 0; i < kLimit; ++i) {
    auto line = test::read_line(clients[i].fd.get());  // already written: no loop needed
    ASSERT_TRUE(line) << i;
    EXPECT_EQ(json::parse(*line)["pong"], i);
  }

  auto extra = connect();
  auto refused = await_eof(extra);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0]["id"].is_null());
  EXPECT_EQ(refused[0]["error"], "too many connections (at most 256)");
  EXPECT_EQ(refused[0]["code"], "too_many_connections");
  EXPECT_EQ(server->connection_count(), kLimit);

  clients.pop_back();
  run_until([&] { return server->connection_count() == kLimit - 1; });
  auto next = connect();
  send(next, R"({"id":9,"op":"ping"})"
             "\n");
  auto lines = await_lines(next, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["ok"], true);
  clients.clear();
}

TEST_F(ControlServerTest, AClientThatDoesNotReadIsDroppedOthersAreNot) {
  start();
  auto stuck = connect();
  std::string requests;
  for (int i = 0; i < 100; ++i) {
    requests += R"({"id":)" + std::to_string(i) +
                R"(,"op":"big"})"
                "\n";
  }
  send(stuck, requests);  // 100 answers of 32 KiB: far past the socket buffer plus 1 MiB
  run_until([&] { return handled > 0 && server->connection_count() == 0; });
  bool clean_eof = false;
  std::string received = test::read_to_end(stuck.fd.get(), &clean_eof);
  EXPECT_TRUE(clean_eof);
  EXPECT_LT(received.size(), 100u * 32u * 1024u);
  EXPECT_LT(handled, 100);  // the rest of its lines were not handled once it was dropped

  auto fine = connect();
  send(fine, R"({"id":1,"op":"big"})"
             "\n");
  auto lines = await_lines(fine, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["data"].get<std::string>().size(), 32u * 1024u);
}

TEST_F(ControlServerTest, CloseDropsClientsAndMakesPendingRespondersHarmless) {
  start();
  auto a = connect();
  auto b = connect();
  send(a, R"({"id":1,"op":"slow"})"
          "\n");
  send(b, R"({"id":2,"op":"slow"})"
          "\n");
  run_until([&] { return parked.size() == 2; });
  server->close();
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_EQ(server->connection_count(), 0u);
  EXPECT_TRUE(await_eof(a).empty());
  EXPECT_TRUE(await_eof(b).empty());
  EXPECT_FALSE(parked[0]({{"late", true}}));
  server.reset();  // and once the server is gone altogether
  EXPECT_FALSE(parked[1].fail("later"));
  EXPECT_FALSE(test::connect_unix(path_));
}

TEST_F(ControlServerTest, TheHandlerMayDestroyTheServer) {
  start();
  auto c = connect();
  send(c, R"({"id":1,"op":"slow"})"
          "\n"
          R"({"id":2,"op":"quit"})"
          "\n"
          R"({"id":3,"op":"ping"})"
          "\n");
  auto lines = await_eof(c);
  EXPECT_TRUE(lines.empty());
  EXPECT_FALSE(server);
  EXPECT_EQ(handled, 2);  // the ping after "quit" was not handled
  EXPECT_FALSE(parked[0]({{"late", true}}));
}

TEST_F(ControlServerTest, ASecondServerOnTheSamePathIsRefused) {
  start();
  auto second = ControlServer::open(loop, path_, [](const json&, Responder) {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), std::errc::address_in_use);
  // The first one still serves (its probe connection from the refused open is simply closed).
  auto c = connect();
  send(c, R"({"id":1,"op":"ping"})"
          "\n");
  EXPECT_EQ(await_lines(c, 1).size(), 1u);
}

}  // namespace
}  // namespace fg::gateway
