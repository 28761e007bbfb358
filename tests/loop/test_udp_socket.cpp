#include "loop/udp_socket.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/support/loop_fixture.hpp"

namespace fg::loop {
namespace {

using UdpSocketTest = test::LoopTest;

sockaddr_in loopback(std::uint16_t port = 0) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

const sockaddr& as_sockaddr(const sockaddr_in& address) {
  return reinterpret_cast<const sockaddr&>(address);
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string text_of(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A socket bound to an ephemeral loopback port.
UdpSocket bound_socket(Loop& loop, std::size_t buffer = UdpSocket::kDefaultReceiveBufferSize) {
  UdpSocket socket(loop, buffer);
  auto address = loopback();
  EXPECT_FALSE(socket.bind(as_sockaddr(address)));
  return socket;
}

TEST_F(UdpSocketTest, BindsToAFreeLoopbackPortAndReportsIt) {
  UdpSocket socket = bound_socket(loop);
  EXPECT_NE(socket.local_port(), 0);
  auto address = socket.local_address();
  ASSERT_TRUE(address);
  ASSERT_EQ(address->ss_family, AF_INET);
  EXPECT_EQ(ntohl(reinterpret_cast<const sockaddr_in*>(&*address)->sin_addr.s_addr), INADDR_LOOPBACK);
  socket.close();
}

TEST_F(UdpSocketTest, AnUnboundSocketHasNoPort) {
  UdpSocket socket(loop);
  EXPECT_EQ(socket.local_port(), 0);
  EXPECT_FALSE(socket.local_address());
  socket.close();
}

TEST_F(UdpSocketTest, BindingAPortInUseFails) {
  UdpSocket first = bound_socket(loop);
  UdpSocket second(loop);
  auto taken = loopback(first.local_port());
  EXPECT_EQ(second.bind(as_sockaddr(taken)), std::errc::address_in_use);
  first.close();
  second.close();
}

TEST_F(UdpSocketTest, DatagramsArriveWholeWithTheSendersAddress) {
  UdpSocket a = bound_socket(loop);
  UdpSocket b = bound_socket(loop);
  std::vector<std::string> got;
  std::uint16_t from_port = 0;
  ASSERT_FALSE(b.start_receiving([&](std::span<const std::uint8_t> datagram, const sockaddr& from) {
    got.push_back(text_of(datagram));
    ASSERT_EQ(from.sa_family, AF_INET);
    from_port = ntohs(reinterpret_cast<const sockaddr_in&>(from).sin_port);
    if (got.size() == 3) {
      loop.stop();
    }
  }));
  auto to = loopback(b.local_port());
  const std::string big(60000, 'x');  // one datagram, far larger than any MTU
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of("one")));
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of("")));
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of(big)));
  run_expecting_stop();
  EXPECT_EQ(got, (std::vector<std::string>{"one", "", big}));
  EXPECT_EQ(from_port, a.local_port());
  EXPECT_EQ(a.counters().sent, 3u);
  EXPECT_EQ(b.counters().received, 3u);
  a.close();
  b.close();
}

TEST_F(UdpSocketTest, ADatagramLargerThanTheBufferIsDroppedNotDeliveredCut) {
  UdpSocket sender = bound_socket(loop);
  UdpSocket receiver = bound_socket(loop, 16);
  std::vector<std::string> got;
  ASSERT_FALSE(receiver.start_receiving([&](std::span<const std::uint8_t> datagram, const sockaddr&) {
    got.push_back(text_of(datagram));
    loop.stop();
  }));
  auto to = loopback(receiver.local_port());
  EXPECT_FALSE(sender.send(as_sockaddr(to), bytes_of("seventeen bytes!!")));
  EXPECT_FALSE(sender.send(as_sockaddr(to), bytes_of("sixteen bytes!!!")));
  run_expecting_stop();
  EXPECT_EQ(got, std::vector<std::string>{"sixteen bytes!!!"});
  EXPECT_EQ(receiver.counters().truncated, 1u);
  EXPECT_EQ(receiver.counters().received, 1u);
  sender.close();
  receiver.close();
}

TEST_F(UdpSocketTest, DatagramsWaitInTheKernelWhileReceivingIsStopped) {
  UdpSocket a = bound_socket(loop);
  UdpSocket b = bound_socket(loop);
  std::vector<std::string> got;
  auto receiver = [&](std::span<const std::uint8_t> datagram, const sockaddr&) {
    got.push_back(text_of(datagram));
    loop.stop();
  };
  ASSERT_FALSE(b.start_receiving(receiver));
  ASSERT_FALSE(b.stop_receiving());
  auto to = loopback(b.local_port());
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of("held")));
  // One loop iteration with receiving stopped delivers nothing (loopback has already queued the datagram
  // in b's socket buffer; a blocking run would never end, since nothing would stop it).
  loop.run_once_nowait();
  EXPECT_TRUE(got.empty());
  ASSERT_FALSE(b.start_receiving(receiver));
  run_expecting_stop();
  EXPECT_EQ(got, std::vector<std::string>{"held"});
  a.close();
  b.close();
}

TEST_F(UdpSocketTest, StartingAgainReplacesTheReceiver) {
  UdpSocket a = bound_socket(loop);
  UdpSocket b = bound_socket(loop);
  std::string which;
  ASSERT_FALSE(b.start_receiving([&](std::span<const std::uint8_t>, const sockaddr&) { which = "first"; }));
  ASSERT_FALSE(b.start_receiving([&](std::span<const std::uint8_t>, const sockaddr&) {
    which = "second";
    loop.stop();
  }));
  auto to = loopback(b.local_port());
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of("x")));
  run_expecting_stop();
  EXPECT_EQ(which, "second");
  a.close();
  b.close();
}

TEST_F(UdpSocketTest, TheReceiverMayCloseItsOwnSocket) {
  UdpSocket a = bound_socket(loop);
  UdpSocket b = bound_socket(loop);
  int calls = 0;
  ASSERT_FALSE(b.start_receiving([&](std::span<const std::uint8_t>, const sockaddr&) {
    ++calls;
    b.close();
  }));
  auto to = loopback(b.local_port());
  // Both datagrams are in the socket buffer before the loop reads; only the first may be delivered.
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of("1")));
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of("2")));
  a.close();
  loop.run();  // ends once both handles are closed
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(b.is_open());
}

TEST_F(UdpSocketTest, ASendTheKernelRefusesIsReportedAndCounted) {
  UdpSocket a = bound_socket(loop);
  // Port 0 is not a destination: sendto fails with EINVAL.
  auto nowhere = loopback(0);
  EXPECT_TRUE(a.send(as_sockaddr(nowhere), bytes_of("x")));
  // An IPv6 destination from an IPv4 socket.
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(9);
  v6.sin6_addr = in6addr_loopback;
  EXPECT_TRUE(a.send(reinterpret_cast<const sockaddr&>(v6), bytes_of("x")));
  EXPECT_EQ(a.counters().send_errors, 2u);
  EXPECT_EQ(a.counters().sent, 0u);
  a.close();
}

TEST_F(UdpSocketTest, AClosedSocketRefusesEverything) {
  UdpSocket a = bound_socket(loop);
  a.close();
  auto to = loopback(9);
  EXPECT_EQ(a.send(as_sockaddr(to), bytes_of("x")), std::errc::bad_file_descriptor);
  EXPECT_EQ(a.start_receiving([](std::span<const std::uint8_t>, const sockaddr&) {}),
            std::errc::bad_file_descriptor);
  EXPECT_EQ(a.bind(as_sockaddr(to)), std::errc::bad_file_descriptor);
  EXPECT_FALSE(a.stop_receiving());
}

TEST_F(UdpSocketTest, AMovedSocketKeepsReceiving) {
  UdpSocket a = bound_socket(loop);
  UdpSocket original = bound_socket(loop);
  std::string got;
  ASSERT_FALSE(original.start_receiving([&](std::span<const std::uint8_t> datagram, const sockaddr&) {
    got = text_of(datagram);
    loop.stop();
  }));
  UdpSocket moved = std::move(original);
  EXPECT_FALSE(original.is_open());
  auto to = loopback(moved.local_port());
  EXPECT_FALSE(a.send(as_sockaddr(to), bytes_of("after the move")));
  run_expecting_stop();
  EXPECT_EQ(got, "after the move");
  EXPECT_EQ(moved.counters().received, 1u);
  a.close();
  moved.close();
}

TEST_F(UdpSocketTest, Ipv6LoopbackWorks) {
  UdpSocket a(loop);
  UdpSocket b(loop);
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_addr = in6addr_loopback;
  if (auto ec = a.bind(reinterpret_cast<const sockaddr&>(any6))) {
    a.close();
    b.close();
    GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
  }
  ASSERT_FALSE(b.bind(reinterpret_cast<const sockaddr&>(any6)));
  std::string got;
  ASSERT_FALSE(b.start_receiving([&](std::span<const std::uint8_t> datagram, const sockaddr& from) {
    got = text_of(datagram);
    EXPECT_EQ(from.sa_family, AF_INET6);
    loop.stop();
  }));
  sockaddr_in6 to = any6;
  to.sin6_port = htons(b.local_port());
  EXPECT_FALSE(a.send(reinterpret_cast<const sockaddr&>(to), bytes_of("v6")));
  run_expecting_stop();
  EXPECT_EQ(got, "v6");
  a.close();
  b.close();
}

}  // namespace
}  // namespace fg::loop
