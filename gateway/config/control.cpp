// [control]: the local control socket of `fieldgate status`, `get` and `put`.

#include <sys/un.h>

#include "gateway/config/sections.hpp"

namespace fg::gateway::config_detail {

void read_control(TableReader& table, ControlSection& out) {
  if (auto socket = table.string("socket")) {
    // sun_path holds the path and its terminating NUL.
    constexpr std::size_t kLimit = sizeof(sockaddr_un::sun_path);
    if (socket->size() >= kLimit) {
      table.error("socket", "must be shorter than " + std::to_string(kLimit) +
                                " bytes (the limit of a unix socket path), got " +
                                std::to_string(socket->size()) + " bytes");
    } else {
      out.socket = *socket;
    }
  }
}

}  // namespace fg::gateway::config_detail
