#include "loop/pipe_listener.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <thread>

#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unix_client.hpp"

namespace fg::loop {
namespace {

using test::connect_unix;
using test::read_to_end;
using test::send_all;

class PipeListenerTest : public test::LoopTest {
 protected:
  // Binds and listens at `path_`, keeping the first accepted client in `connection`.
  void listen_keeping_first_client() {
    auto bound = PipeListener::bind(loop, path_);
    ASSERT_TRUE(bound) << bound.error().message();
    listener.emplace(std::move(*bound));
    ASSERT_FALSE(listener->listen([this](std::expected<StreamConnection, std::error_code> client) {
      ASSERT_TRUE(client) << client.error().message();
      connection.emplace(std::move(*client));
      loop.stop();
    }));
  }

  test::TempDir dir_;
  std::string path_ = (dir_ / "control").string();
  // Declared after the loop (in LoopTest), so they are closed before TearDown checks it.
  std::optional<PipeListener> listener;
  std::optional<StreamConnection> connection;

  void TearDown() override {
    connection.reset();
    listener.reset();
    LoopTest::TearDown();
  }
};

// A socket file whose listener is gone: bound, never listening, closed. Connecting to it is refused.
void leave_stale_socket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
}

TEST_F(PipeListenerTest, DataFlowsBothWaysAndAPeerCloseIsReported) {
  listen_keeping_first_client();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  ASSERT_TRUE(connection);

  std::string got;
  std::optional<std::error_code> closed;
  ASSERT_FALSE(connection->start_reading(
      [&](std::span<const char> data) {
        got.append(data.data(), data.size());
        EXPECT_FALSE(connection->write("echo:" + std::string(data.data(), data.size())));
        loop.stop();
      },
      [&](std::error_code reason) {
        closed = reason;
        loop.stop();
      }));
  ASSERT_TRUE(send_all(client.get(), "ping"));
  run_expecting_stop();
  EXPECT_EQ(got, "ping");
  char reply[9] = {};
  EXPECT_EQ(::recv(client.get(), reply, 9, MSG_WAITALL), 9);
  EXPECT_EQ(std::string(reply, 9), "echo:ping");

  client.reset();
  run_expecting_stop();
  ASSERT_TRUE(closed);
  EXPECT_FALSE(*closed) << closed->message();
  EXPECT_FALSE(connection->is_open());
}

TEST_F(PipeListenerTest, SocketFileHasMode0660AndGoesWithTheListener) {
  listen_keeping_first_client();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  listener->close();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(PipeListenerTest, StaleSocketFileIsReplaced) {
  leave_stale_socket(path_);
  ASSERT_TRUE(std::filesystem::is_socket(path_));
  ASSERT_FALSE(connect_unix(path_)) << "the stale socket should refuse connections";
  listen_keeping_first_client();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  EXPECT_TRUE(connection);
}

TEST_F(PipeListenerTest, LiveSocketIsAlreadyInUseAndKeepsWorking) {
  listen_keeping_first_client();
  auto second = PipeListener::bind(loop, path_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), std::errc::address_in_use);
  // The probe connection of the failed bind reached the first listener; the file is still its own.
  run_expecting_stop();
  EXPECT_TRUE(connection);
  connection.reset();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  EXPECT_TRUE(connection);
}

TEST_F(PipeListenerTest, AFileThatIsNotASocketIsLeftAlone) {
  test::write_file(path_, "not a socket");
  auto bound = PipeListener::bind(loop, path_);
  ASSERT_FALSE(bound);
  EXPECT_EQ(bound.error(), std::errc::file_exists);
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

TEST_F(PipeListenerTest, PathsThatCannotWorkAreErrors) {
  auto too_long = PipeListener::bind(loop, (dir_ / std::string(120, 'x')).string());
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error(), std::errc::filename_too_long);
  auto no_directory = PipeListener::bind(loop, (dir_ / "missing" / "control").string());
  ASSERT_FALSE(no_directory);
  EXPECT_EQ(no_directory.error(), std::errc::no_such_file_or_directory);
}

TEST_F(PipeListenerTest, HalfClosedPeerStillGetsItsAnswerThenEof) {
  listen_keeping_first_client();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  std::string got;
  bool eof_seen = false;
  std::optional<std::error_code> closed;
  ASSERT_FALSE(
      connection->start_reading([&](std::span<const char> data) { got.append(data.data(), data.size()); },
                                [&](std::error_code reason) {
                                  closed = reason;
                                  loop.stop();
                                },
                                [&] {
                                  eof_seen = true;
                                  EXPECT_FALSE(connection->write("answer to " + got));
                                  EXPECT_FALSE(connection->end());
                                  EXPECT_TRUE(connection->ending());
                                }));
  ASSERT_TRUE(send_all(client.get(), "question"));
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  run_expecting_stop();
  EXPECT_TRUE(eof_seen);
  ASSERT_TRUE(closed);
  EXPECT_FALSE(*closed) << closed->message();
  bool clean_eof = false;
  EXPECT_EQ(read_to_end(client.get(), &clean_eof), "answer to question");
  EXPECT_TRUE(clean_eof);
}

TEST_F(PipeListenerTest, HalfCloseWithoutEofCallbackCloses) {
  listen_keeping_first_client();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  std::optional<std::error_code> closed;
  ASSERT_FALSE(connection->start_reading([](std::span<const char>) {},
                                         [&](std::error_code reason) {
                                           closed = reason;
                                           loop.stop();
                                         }));
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  run_expecting_stop();
  ASSERT_TRUE(closed);
  EXPECT_FALSE(*closed);
  EXPECT_FALSE(connection->is_open());
}

TEST_F(PipeListenerTest, EndFlushesWhatTheKernelCouldNotTakeYet) {
  listen_keeping_first_client();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  std::optional<std::error_code> closed;
  ASSERT_FALSE(connection->start_reading([](std::span<const char>) {},
                                         [&](std::error_code reason) {
                                           closed = reason;
                                           loop.stop();
                                         }));
  const std::string big(4 * 1024 * 1024, 'z');  // far more than a socket buffer holds
  ASSERT_FALSE(connection->write(big));
  ASSERT_FALSE(connection->write("end"));
  EXPECT_GT(connection->write_queue_size(), 0u);
  ASSERT_FALSE(connection->end());
  std::string received;
  bool clean_eof = false;
  std::thread reader([&] { received = read_to_end(client.get(), &clean_eof); });
  run_expecting_stop();
  reader.join();
  ASSERT_TRUE(closed);
  EXPECT_FALSE(*closed) << closed->message();
  EXPECT_TRUE(clean_eof);
  EXPECT_EQ(received.size(), big.size() + 3);
  EXPECT_EQ(received.substr(big.size()), "end");
}

TEST_F(PipeListenerTest, WritingToAVanishedPeerIsAnErrorNotSigpipe) {
  listen_keeping_first_client();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  client.reset();
  std::optional<std::error_code> closed;
  // Callbacks set but not reading, so the write is what finds the peer gone, not a read of EOF.
  ASSERT_FALSE(connection->start_reading([](std::span<const char>) {},
                                         [&](std::error_code reason) {
                                           closed = reason;
                                           loop.stop();
                                         }));
  ASSERT_FALSE(connection->stop_reading());
  EXPECT_FALSE(connection->write("into the void"));
  run_expecting_stop();
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed, std::errc::broken_pipe);
  EXPECT_FALSE(connection->is_open());
  EXPECT_TRUE(connection->write("again"));  // closed: an error value, nothing written
}

TEST_F(PipeListenerTest, OwnerMayDestroyTheConnectionInsideItsCallback) {
  listen_keeping_first_client();
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  int calls = 0;
  ASSERT_FALSE(connection->start_reading(
      [&](std::span<const char>) {
        ++calls;
        EXPECT_FALSE(connection->write(std::string(1024 * 1024, 'q')));  // left queued, then dropped
        connection.reset();
        loop.stop();
      },
      [&](std::error_code) { ADD_FAILURE() << "no close callback after the owner's own close"; }));
  ASSERT_TRUE(send_all(client.get(), "bye"));
  run_expecting_stop();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(connection);
  // The peer sees the connection end (EOF, or a reset since "bye" may still be unread: both are ends).
  (void)read_to_end(client.get());
  char c = 0;
  EXPECT_LE(::recv(client.get(), &c, 1, 0), 0);
}

TEST_F(PipeListenerTest, ListenerMayBeDestroyedInsideItsAcceptCallback) {
  auto bound = PipeListener::bind(loop, path_);
  ASSERT_TRUE(bound);
  listener.emplace(std::move(*bound));
  int accepted = 0;
  ASSERT_FALSE(listener->listen([&](std::expected<StreamConnection, std::error_code> client) {
    ASSERT_TRUE(client);
    ++accepted;
    listener.reset();  // `client` goes out of scope afterwards and closes
    loop.stop();
  }));
  auto client = connect_unix(path_);
  ASSERT_TRUE(client);
  run_expecting_stop();
  EXPECT_EQ(accepted, 1);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(PipeListenerTest, ManyClientsAreAcceptedInTurn) {
  auto bound = PipeListener::bind(loop, path_);
  ASSERT_TRUE(bound);
  listener.emplace(std::move(*bound));
  std::vector<StreamConnection> accepted;
  constexpr std::size_t kClients = 50;
  ASSERT_FALSE(listener->listen([&](std::expected<StreamConnection, std::error_code> client) {
    ASSERT_TRUE(client);
    accepted.push_back(std::move(*client));  // moves re-point libuv's handles at their new owners
    if (accepted.size() == kClients) {
      loop.stop();
    }
  }));
  std::vector<UniqueFd> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(connect_unix(path_));
    ASSERT_TRUE(clients.back());
  }
  run_expecting_stop();
  ASSERT_EQ(accepted.size(), kClients);
  // Every accepted connection still reaches its own client after the vector moved them around.
  for (std::size_t i = 0; i < kClients; ++i) {
    EXPECT_FALSE(accepted[i].write(std::to_string(i) + "\n"));
  }
  for (std::size_t i = 0; i < kClients; ++i) {
    EXPECT_EQ(test::read_line(clients[i].get()), std::to_string(i) + "\n");
  }
  accepted.clear();
}

}  // namespace
}  // namespace fg::loop
