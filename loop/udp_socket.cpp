#include "loop/udp_socket.hpp"

#include <netinet/in.h>

#include <cstring>

namespace fg::loop {

UdpSocket::UdpSocket(Loop& loop, std::size_t receive_buffer_size)
    : buffer_(std::make_unique<std::uint8_t[]>(receive_buffer_size)), buffer_size_(receive_buffer_size) {
  // uv_udp_init creates no socket yet (bind() does, in the address's family), so it cannot fail; open()
  // still takes its status so every handle is created the same way.
  (void)open([&](uv_udp_t* h) { return uv_udp_init(loop.raw(), h); });
}

std::error_code UdpSocket::bind(const sockaddr& address) {
  if (handle_ == nullptr) {
    return std::make_error_code(std::errc::bad_file_descriptor);
  }
  return uv_error(uv_udp_bind(handle_, &address, 0));
}

std::expected<sockaddr_storage, std::error_code> UdpSocket::local_address() const {
  if (handle_ == nullptr) {
    return std::unexpected(std::make_error_code(std::errc::bad_file_descriptor));
  }
  sockaddr_storage address{};
  int length = sizeof address;
  if (int status = uv_udp_getsockname(handle_, reinterpret_cast<sockaddr*>(&address), &length); status < 0) {
    return std::unexpected(uv_error(status));
  }
  return address;
}

std::uint16_t UdpSocket::local_port() const {
  auto address = local_address();
  if (!address) {
    return 0;
  }
  if (address->ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&*address)->sin_port);
  }
  if (address->ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&*address)->sin6_port);
  }
  return 0;
}

std::error_code UdpSocket::start_receiving(Receiver receiver) {
  if (handle_ == nullptr) {
    return std::make_error_code(std::errc::bad_file_descriptor);
  }
  receiver_ = std::move(receiver);
  int status = uv_udp_recv_start(handle_, &UdpSocket::on_alloc, &UdpSocket::on_receive);
  // Already receiving: replacing the receiver was all there was to do.
  return status == UV_EALREADY ? std::error_code() : uv_error(status);
}

std::error_code UdpSocket::stop_receiving() noexcept {
  if (handle_ == nullptr) {
    return {};
  }
  return uv_error(uv_udp_recv_stop(handle_));
}

std::error_code UdpSocket::send(const sockaddr& to, std::span<const std::uint8_t> datagram) {
  if (handle_ == nullptr) {
    ++counters_.send_errors;
    return std::make_error_code(std::errc::bad_file_descriptor);
  }
  // libuv takes a mutable base pointer but only reads through it.
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(datagram.data())),
                             static_cast<unsigned>(datagram.size()));
  int status = uv_udp_try_send(handle_, &buf, 1, &to);
  if (status < 0) {
    ++counters_.send_errors;
    return uv_error(status);
  }
  ++counters_.sent;
  return {};
}

void UdpSocket::on_alloc(uv_handle_t* handle, std::size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* self = owner_of<UdpSocket>(reinterpret_cast<uv_udp_t*>(handle));
  if (self == nullptr) {
    // A closed owner: libuv turns the empty buffer into UV_ENOBUFS, which on_receive ignores.
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(reinterpret_cast<char*>(self->buffer_.get()), static_cast<unsigned>(self->buffer_size_));
}

void UdpSocket::on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from,
                           unsigned flags) noexcept {
  auto* self = owner_of<UdpSocket>(handle);
  if (self == nullptr) {
    return;
  }
  if (nread < 0) {
    ++self->counters_.receive_errors;
    return;
  }
  // nread == 0 with no address means "nothing more to read now"; with an address it is an empty datagram.
  if (from == nullptr) {
    return;
  }
  if ((flags & UV_UDP_PARTIAL) != 0) {
    ++self->counters_.truncated;
    return;
  }
  ++self->counters_.received;
  if (!self->receiver_) {
    return;
  }
  auto receiver = self->receiver_;  // see uv_handle.hpp: the receiver may destroy or restart *self
  receiver(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buf->base),
                                         static_cast<std::size_t>(nread)),
           *from);
}

}  // namespace fg::loop
