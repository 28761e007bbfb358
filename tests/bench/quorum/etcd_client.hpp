#pragma once
// EtcdClient: one benchmark client of one etcd member, over etcd's native gRPC API (KV.Put, KV.Range) with
// the synchronous gRPC C++ stub and a channel of its own.

#include <chrono>
#include <memory>
#include <string>

#include "tests/bench/quorum/kv_client.hpp"

namespace fg::test::bench {

class EtcdClient final : public KvClient {
 public:
  // `endpoint` is "127.0.0.1:PORT", a member's client URL without the scheme. An operation that takes
  // longer than `timeout` fails with DEADLINE_EXCEEDED.
  explicit EtcdClient(std::string endpoint, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~EtcdClient() override;

  OpResult connect() override;
  OpResult put(const std::string& key, const std::string& value) override;
  OpResult get(const std::string& key) override;

  // The value a linearizable read of `key` returns (for the tests and the readiness check).
  std::expected<std::string, std::string> read(const std::string& key);

 private:
  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  // The gRPC channel and the generated stub, kept out of this header so that its users need neither the
  // generated code nor the gRPC headers.
  struct Connection;
  std::unique_ptr<Connection> connection_;
};

}  // namespace fg::test::bench
