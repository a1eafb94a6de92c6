#pragma once
// A small inter-broker client: one TCP connection to a broker's advertised address (host and
// port from the metadata image), one request at a time, every step bounded by a timeout (an
// expired step closes the socket, failing the pending operation). Used through broker_connections
// by the transaction marker sender and the KIP-890 check; the connection step is shared with the
// replica fetcher's.
//
// Threading: an object lives on one io_context (a shard) and is used by one coroutine at a time.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <asio.hpp>

#include "base/result.h"
#include "protocol/api.h"
#include "protocol/headers.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace sluice::server {

// Arms `deadline` to close `socket` after `ms` unless cancelled (or re-armed) first.
void close_after(asio::steady_timer& deadline, asio::ip::tcp::socket& socket, int64_t ms);

// Resolves host:port and connects `socket` to it within `timeout_ms` (TCP_NODELAY set). Errors
// are asio's (timed_out when the deadline closed the socket).
asio::awaitable<std::error_code> connect_to(asio::ip::tcp::socket& socket, asio::steady_timer& deadline,
                                            const std::string& host, int32_t port, int64_t timeout_ms);

class broker_client {
 public:
  explicit broker_client(asio::any_io_executor ex);
  broker_client(const broker_client&) = delete;
  broker_client& operator=(const broker_client&) = delete;

  bool connected() const { return _socket.is_open(); }
  asio::awaitable<std::error_code> connect(const std::string& host, int32_t port, int64_t timeout_ms);
  void close();

  // Sends one request (its header built here, client id "sluice-broker") and reads its response
  // within `timeout_ms`. A frame larger than `max_response_bytes`, a wrong correlation id or a
  // body that does not decode fails with an error and closes the connection.
  template <typename Api>
  asio::awaitable<result<typename Api::response>> request(const typename Api::request& req, int16_t version,
                                                          int64_t timeout_ms, size_t max_response_bytes = 16 << 20) {
    protocol::writer w;
    const size_t frame = w.begin_frame();
    protocol::request_header h;
    h.api_key = Api::key;
    h.api_version = version;
    h.correlation_id = ++_correlation_id;
    h.client_id = "sluice-broker";
    h.encode(w, protocol::request_header_version(Api::key, version));
    req.encode(w, version);
    w.end_frame(frame);
    const auto out = w.flatten();
    auto body = co_await round_trip(out, timeout_ms, max_response_bytes);
    if (!body) co_return body.error();
    protocol::reader r{std::span<const uint8_t>(*body)};
    protocol::response_header rh;
    typename Api::response resp;
    (void)rh.decode(r, protocol::response_header_version(Api::key, version));
    if (r.ok()) (void)resp.decode(r, version);
    if (!r.ok() || rh.correlation_id != _correlation_id) {
      close();
      co_return std::make_error_code(std::errc::bad_message);
    }
    co_return resp;
  }

 private:
  // Writes `frame` and reads one response frame (without its length prefix).
  asio::awaitable<result<std::vector<uint8_t>>> round_trip(const std::vector<uint8_t>& frame, int64_t timeout_ms,
                                                           size_t max_response_bytes);

  asio::ip::tcp::socket _socket;
  asio::steady_timer _deadline;
  int32_t _correlation_id = 0;
};

}  // namespace sluice::server
