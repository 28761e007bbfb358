#pragma once
// Endpoints as text: "A.B.C.D:port" and "[v6]:port" (an IPv6 address may carry a zone,
// "[fe80::1%eth0]:port", which link-local addresses need) to sockaddr_storage and back.
//
// Known limit: host names are not accepted. Resolving them would need the thread pool (getaddrinfo) and a
// policy for names that resolve to several or changing addresses; gateways on a LAN are configured with
// addresses. The error says so, so a user who wrote a name knows why.
// Port 0 parses (it is what a bind to "any free port" uses); whether it makes sense is the caller's call.

#include <netinet/in.h>
#include <sys/socket.h>

#include <expected>
#include <string>
#include <string_view>

namespace fg::quorum {

// The address, or a message that quotes the text and says what is wrong with it.
std::expected<sockaddr_storage, std::string> parse_endpoint(std::string_view text);

// "A.B.C.D:port" or "[v6]:port" ("[v6%zone]:port" with a scope id); "?" for another family.
std::string format_endpoint(const sockaddr& address);
inline std::string format_endpoint(const sockaddr_storage& address) {
  return format_endpoint(reinterpret_cast<const sockaddr&>(address));
}

}  // namespace fg::quorum
