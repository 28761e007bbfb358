#pragma once
// LogStorage: the protocol core's Storage on a ReplicaLog (snapshot + append-only log on a Disk).

#include <expected>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/replica_log.hpp"
#include "quorum/storage.hpp"
#include "storage/disk.hpp"

namespace fg::quorum {

class LogStorage final : public Storage {
 public:
  explicit LogStorage(ReplicaLog log) : log_(std::move(log)) {}

  std::error_code append(const std::string& key, const Versioned& versioned) override {
    return log_.append(key, versioned);
  }
  std::error_code commit() override { return log_.commit(); }
  std::error_code initialize(const Entries& entries) override { return log_.mark_initialized(entries); }
  std::error_code maybe_compact(const Entries& entries) override {
    auto compacted = log_.compact(entries);
    return compacted ? std::error_code{} : compacted.error();
  }

  const ReplicaLog& log() const { return log_; }

 private:
  ReplicaLog log_;
};

}  // namespace fg::quorum
