// Gateway's side of the disk spool (gateway/publish_spool.hpp): opened before the session, so that a
// second gateway on the same state_dir is refused before it connects anywhere.

#include "gateway/gateway.hpp"
#include "gateway/log.hpp"

namespace fg::gateway {

std::error_code Gateway::open_spool() {
  auto spool = PublishSpool::open(loop_, config_.gateway.state_dir, config_.mqtt.session.spool);
  if (!spool) {
    log(LogLevel::error, "{}", spool.error());
    return std::make_error_code(std::errc::device_or_resource_busy);
  }
  spool_ = std::move(*spool);
  return {};
}

}  // namespace fg::gateway
