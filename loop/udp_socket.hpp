#pragma once
// UdpSocket: a UDP socket on the loop (libuv uv_udp_t) that sends and receives whole datagrams.
//
// Sending never queues: send() hands the datagram to the kernel at once (uv_udp_try_send) or drops it and
// returns the error (EAGAIN / ENOBUFS when the socket's send buffer or the device queue is full, or the
// errno of sendto). UDP is lossy anyway, so whatever runs above (quorum's protocol) must retransmit; an
// unbounded send queue in user space would only hide overload and grow without limit.
//
// Receiving uses one buffer owned by the socket and reused for every datagram (64 KiB by default, which
// holds any UDP datagram over IPv4 or IPv6 without jumbograms). A datagram the kernel had to truncate
// because it was larger than the buffer (UV_UDP_PARTIAL) is dropped and counted, never delivered cut.
//
// Known limits: no multicast, broadcast or connected-socket options (not needed on the quorum's LAN); an
// IPv6 bind is dual-stack (libuv's default), so it also takes IPv4 traffic as v4-mapped addresses.

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <system_error>

#include "loop/loop.hpp"
#include "loop/uv_handle.hpp"

namespace fg::loop {

struct UdpSocketCounters {
  std::uint64_t received = 0;        // datagrams delivered to the receiver
  std::uint64_t truncated = 0;       // dropped: larger than the receive buffer
  std::uint64_t receive_errors = 0;  // errors libuv reported while reading
  std::uint64_t sent = 0;            // datagrams the kernel took
  std::uint64_t send_errors = 0;     // datagrams dropped by send()
};

class UdpSocket : public UvHandle<uv_udp_t> {
 public:
  // The datagram and its source address. The bytes live in the socket's receive buffer and are valid
  // only during the call.
  using Receiver = std::function<void(std::span<const std::uint8_t> datagram, const sockaddr& from)>;

  static constexpr std::size_t kDefaultReceiveBufferSize = std::size_t{64} * 1024;

  // The socket itself is created by bind(), in the address's family. A receive buffer smaller than the
  // default is for tests of the truncation path (and for users who know their datagrams are small).
  explicit UdpSocket(Loop& loop, std::size_t receive_buffer_size = kDefaultReceiveBufferSize);
  UdpSocket(UdpSocket&&) noexcept = default;
  UdpSocket& operator=(UdpSocket&&) noexcept = default;
  ~UdpSocket() = default;

  // Binds to an IPv4 or IPv6 address (port 0 picks a free port; local_port() tells which).
  std::error_code bind(const sockaddr& address);

  // The bound address, or the error of getsockname (EBADF before bind()).
  std::expected<sockaddr_storage, std::error_code> local_address() const;
  // The bound port in host byte order, 0 if the socket is not bound.
  std::uint16_t local_port() const;

  // Delivers every datagram that arrives from now on to `receiver`, replacing any previous receiver.
  std::error_code start_receiving(Receiver receiver);
  // Stops reading; datagrams that arrive meanwhile wait in the kernel's socket buffer (up to its size).
  std::error_code stop_receiving() noexcept;

  // Sends one datagram now or drops it (see above); the empty code means the kernel took all of it.
  std::error_code send(const sockaddr& to, std::span<const std::uint8_t> datagram);

  const UdpSocketCounters& counters() const noexcept { return counters_; }

 private:
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from,
                         unsigned flags) noexcept;

  // On the heap so that a move leaves it where libuv may still be writing during a callback.
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t buffer_size_ = 0;
  Receiver receiver_;
  UdpSocketCounters counters_;
};

}  // namespace fg::loop
