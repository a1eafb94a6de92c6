#include "server/broker_client.h"

#include <chrono>

#include <asio/experimental/as_tuple.hpp>

namespace sluice::server {

using asio::ip::tcp;
namespace {
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}

void close_after(asio::steady_timer& deadline, tcp::socket& socket, int64_t ms) {
  deadline.expires_after(std::chrono::milliseconds(ms));
  deadline.async_wait([&socket](const asio::error_code& ec) {
    if (!ec) {
      asio::error_code ignored;
      socket.close(ignored);
    }
  });
}

asio::awaitable<std::error_code> connect_to(tcp::socket& socket, asio::steady_timer& deadline, const std::string& host,
                                            int32_t port, int64_t timeout_ms) {
  tcp::resolver resolver(socket.get_executor());
  const std::string port_str = std::to_string(port);
  auto [rerr, endpoints] = co_await resolver.async_resolve(host, port_str, as_tuple);
  if (rerr) co_return rerr;
  close_after(deadline, socket, timeout_ms);
  auto [cerr, connected] = co_await asio::async_connect(socket, endpoints, as_tuple);
  deadline.cancel();
  if (cerr || !socket.is_open()) {
    asio::error_code ignored;
    socket.close(ignored);
    co_return cerr ? std::error_code(cerr) : std::make_error_code(std::errc::timed_out);
  }
  asio::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  co_return std::error_code{};
}

broker_client::broker_client(asio::any_io_executor ex) : _socket(ex), _deadline(ex) {}

asio::awaitable<std::error_code> broker_client::connect(const std::string& host, int32_t port, int64_t timeout_ms) {
  close();
  co_return co_await connect_to(_socket, _deadline, host, port, timeout_ms);
}

void broker_client::close() {
  asio::error_code ignored;
  _socket.close(ignored);
}

asio::awaitable<result<std::vector<uint8_t>>> broker_client::round_trip(const std::vector<uint8_t>& frame,
                                                                        int64_t timeout_ms,
                                                                        size_t max_response_bytes) {
  if (!_socket.is_open()) co_return std::make_error_code(std::errc::not_connected);
  close_after(_deadline, _socket, timeout_ms);
  auto [werr, wn] = co_await asio::async_write(_socket, asio::buffer(frame), as_tuple);
  uint8_t len_bytes[4] = {};
  asio::error_code err = werr;
  if (!err) std::tie(err, std::ignore) = co_await asio::async_read(_socket, asio::buffer(len_bytes), as_tuple);
  std::vector<uint8_t> body;
  if (!err) {
    const int64_t len = static_cast<int32_t>(uint32_t{len_bytes[0]} << 24 | uint32_t{len_bytes[1]} << 16 |
                                             uint32_t{len_bytes[2]} << 8 | uint32_t{len_bytes[3]});
    if (len < 0 || static_cast<uint64_t>(len) > max_response_bytes) {
      err = asio::error::message_size;
    } else {
      body.resize(static_cast<size_t>(len));
      std::tie(err, std::ignore) = co_await asio::async_read(_socket, asio::buffer(body), as_tuple);
    }
  }
  _deadline.cancel();
  if (err) {
    close();
    co_return std::error_code(err);
  }
  co_return body;
}

}  // namespace sluice::server
