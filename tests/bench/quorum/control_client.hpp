#pragma once
// ControlClient: one benchmark client of one fieldgate replica, over the daemon's control socket.
//
// The protocol (a unix stream socket, one JSON object per line, replies matched to requests by id):
//   -> {"id":N,"op":"put","key":"k","value":"v"}      -> {"id":N,"op":"get","key":"k"}
//   <- {"id":N,"ok":true,...}                          <- {"id":N,"ok":false,"error":"..."}
// The daemon allows pipelining; a closed-loop client has one request in flight, so this client writes a
// request and reads lines until the reply with that id arrives (a line with another id is skipped). The
// socket is blocking, with SO_RCVTIMEO / SO_SNDTIMEO as the per-operation timeout.
//
// Known limit: a get counts as a success when the reply says ok; what else the reply carries (the value,
// its tag) is not checked, as that part of the reply is not fixed yet.

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/bench/quorum/kv_client.hpp"

namespace fg::test::bench {

class ControlClient final : public KvClient {
 public:
  explicit ControlClient(std::filesystem::path socket,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(std::move(socket)), timeout_(timeout) {}
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;
  ~ControlClient() override;

  OpResult connect() override;
  OpResult put(const std::string& key, const std::string& value) override;
  OpResult get(const std::string& key) override;

  // Sends `request` with the next id (connecting first if needed) and returns the reply with that id,
  // whatever its "ok" says; fails on a socket error, a timeout, or a line that is not a JSON object.
  std::expected<nlohmann::json, std::string> call(nlohmann::json request);

  // Pipelined: sends every request (each with its own id) in one write, then reads until each has its
  // reply, and returns how many replies said ok. The daemon takes at most 64 requests of one connection
  // at a time (docs/control-socket.md), so keep `requests` at 64 or fewer.
  std::expected<std::size_t, std::string> pipeline(std::vector<nlohmann::json> requests);

 private:
  OpResult send_all(const std::string& bytes);
  // The next line as a JSON object with its "id"; 0 for a reply without a numeric id.
  std::expected<std::pair<std::uint64_t, nlohmann::json>, std::string> read_reply();
  std::expected<std::string, std::string> read_line();
  OpResult expect_ok(nlohmann::json request);
  void close();

  std::filesystem::path socket_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;  // what was read past the last complete line
  std::uint64_t next_id_ = 1;
};

}  // namespace fg::test::bench
