#include "tests/bench/quorum/etcd_client.hpp"

#include <grpcpp/grpcpp.h>

#include "etcd_kv.grpc.pb.h"

namespace fg::test::bench {

struct EtcdClient::Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> stub;
};

namespace {

std::string describe(const grpc::Status& status) {
  return "etcd: gRPC status " + std::to_string(static_cast<int>(status.error_code())) + ": " +
         status.error_message();
}

}  // namespace

EtcdClient::EtcdClient(std::string endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout), connection_(std::make_unique<Connection>()) {
  grpc::ChannelArguments args;
  // Channels with equal arguments to the same address share one TCP connection through gRPC's global
  // subchannel pool; a local pool gives this client a connection of its own, as a separate client
  // process would have (and as each fieldgate client has its own control socket connection).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  connection_->channel = grpc::CreateCustomChannel(endpoint_, grpc::InsecureChannelCredentials(), args);
  connection_->stub = etcdserverpb::KV::NewStub(connection_->channel);
}

EtcdClient::~EtcdClient() = default;

OpResult EtcdClient::connect() {
  if (!connection_->channel->WaitForConnected(std::chrono::system_clock::now() + timeout_)) {
    return std::unexpected("etcd: cannot connect to " + endpoint_);
  }
  return {};
}

OpResult EtcdClient::put(const std::string& key, const std::string& value) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  etcdserverpb::PutResponse response;
  grpc::Status status = connection_->stub->Put(&context, request, &response);
  if (!status.ok()) {
    return std::unexpected(describe(status));
  }
  return {};
}

std::expected<std::string, std::string> EtcdClient::read(const std::string& key) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  request.set_serializable(false);  // linearizable, etcd's default; written out because it matters here
  etcdserverpb::RangeResponse response;
  grpc::Status status = connection_->stub->Range(&context, request, &response);
  if (!status.ok()) {
    return std::unexpected(describe(status));
  }
  if (response.kvs_size() != 1) {
    return std::unexpected("etcd: " + std::to_string(response.kvs_size()) + " values for key " + key);
  }
  return response.kvs(0).value();
}

OpResult EtcdClient::get(const std::string& key) {
  auto value = read(key);
  if (!value) {
    return std::unexpected(value.error());
  }
  return {};
}

}  // namespace fg::test::bench
