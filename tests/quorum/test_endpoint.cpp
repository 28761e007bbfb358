#include "quorum/endpoint.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <net/if.h>

#include <string>

namespace fg::quorum {
namespace {

using ::testing::HasSubstr;

TEST(Endpoint, ParsesIpv4AndPort) {
  auto address = parse_endpoint("192.168.1.10:7400");
  ASSERT_TRUE(address) << address.error();
  ASSERT_EQ(address->ss_family, AF_INET);
  const auto& v4 = reinterpret_cast<const sockaddr_in&>(*address);
  EXPECT_EQ(ntohs(v4.sin_port), 7400);
  EXPECT_EQ(ntohl(v4.sin_addr.s_addr), 0xC0A8010Au);
}

TEST(Endpoint, ParsesBracketedIpv6AndPort) {
  auto address = parse_endpoint("[fd00::1]:65535");
  ASSERT_TRUE(address) << address.error();
  ASSERT_EQ(address->ss_family, AF_INET6);
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(*address);
  EXPECT_EQ(ntohs(v6.sin6_port), 65535);
  EXPECT_EQ(v6.sin6_addr.s6_addr[0], 0xfd);
  EXPECT_EQ(v6.sin6_addr.s6_addr[15], 1);
  EXPECT_EQ(v6.sin6_scope_id, 0u);
}

TEST(Endpoint, ParsesAZoneOnALinkLocalAddress) {
  auto address = parse_endpoint("[fe80::1%lo]:7400");
  ASSERT_TRUE(address) << address.error();
  EXPECT_EQ(reinterpret_cast<const sockaddr_in6&>(*address).sin6_scope_id, ::if_nametoindex("lo"));
  EXPECT_EQ(format_endpoint(*address), "[fe80::1%lo]:7400");
}

TEST(Endpoint, FormatsBackToTheSameText) {
  for (const char* text :
       {"127.0.0.1:1", "0.0.0.0:0", "10.0.0.255:7400", "[::1]:7400", "[fd00::abcd:1]:9", "[::]:0"}) {
    auto address = parse_endpoint(text);
    ASSERT_TRUE(address) << text << ": " << address.error();
    EXPECT_EQ(format_endpoint(*address), text);
  }
}

TEST(Endpoint, AnUnknownFamilyFormatsAsAQuestionMark) {
  sockaddr_storage address{};
  address.ss_family = AF_UNIX;
  EXPECT_EQ(format_endpoint(address), "?");
}

TEST(Endpoint, ErrorsQuoteTheTextAndSayWhatIsWrong) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : {
           Case{"", "expected ADDRESS:PORT"},
           Case{"192.168.1.10", "the port is missing"},
           Case{"192.168.1.10:", "the port after ':' is missing"},
           Case{"192.168.1.10:http", "port \"http\" is not a number"},
           Case{"192.168.1.10:-1", "is not a number"},
           Case{"192.168.1.10:+1", "is not a number"},
           Case{"192.168.1.10:65536", "out of range (0..65535)"},
           Case{"192.168.1.10:99999999999999999999", "out of range"},
           Case{"192.168.1.256:7400", "\"192.168.1.256\" is not an IPv4 address"},
           Case{"10.1:7400", "is not an IPv4 address"},
           Case{"010.0.0.1:7400", "is not an IPv4 address"},
           Case{":7400", "is not an IPv4 address"},
           Case{"gateway-2.local:7400", "host names are not supported"},
           Case{"localhost:7400", "host names are not supported"},
           Case{"fd00::1:7400", "an IPv6 address must be in brackets"},
           Case{"[fd00::1]", "expected ':PORT' after ']'"},
           Case{"[fd00::1]7400", "expected ':PORT' after ']'"},
           Case{"[fd00::1:7400", "without a closing ']'"},
           Case{"[192.168.1.10]:7400", "is not an IPv6 address"},
           Case{"[fd00::g]:7400", "\"fd00::g\" is not an IPv6 address"},
           Case{"[fe80::1%]:7400", "the zone after '%' is empty"},
           Case{"[fe80::1%no-such-if0]:7400", "no network interface named \"no-such-if0\""},
       }) {
    auto address = parse_endpoint(c.text);
    ASSERT_FALSE(address) << c.text;
    EXPECT_THAT(address.error(), HasSubstr(c.says)) << c.text;
    EXPECT_THAT(address.error(), HasSubstr(std::string("endpoint \"") + c.text + "\"")) << c.text;
  }
}

}  // namespace
}  // namespace fg::quorum
