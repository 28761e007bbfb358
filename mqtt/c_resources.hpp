#pragma once
// Private to mqtt/: the C resources of the module in unique_ptrs with their deleters (DESIGN.md rule 6).
// Not included by any public header, so users of fg_mqtt never see <mosquitto.h>.

#include <mosquitto.h>
#include <uv.h>

#include <memory>

namespace fg::mqtt::detail {

struct MosquittoDeleter {
  // Closes libmosquitto's socket and its internal socket pair, frees queued messages. Never call it
  // inside one of the instance's own callbacks.
  void operator()(mosquitto* m) const noexcept { mosquitto_destroy(m); }
};
using MosquittoPtr = std::unique_ptr<mosquitto, MosquittoDeleter>;

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const noexcept { uv_freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

}  // namespace fg::mqtt::detail
