#pragma once
// One client connection, owned by the shard that accepted it.
//
// Requests are read ahead (bounded by `max_queued_requests`) but handled strictly one at a time
// in arrival order, as Kafka does, so appends from one connection never reorder; responses are
// written in the same order while the next request is handled. A frame larger than
// `max_frame_bytes` closes the connection before anything is allocated for it.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include "net/outgoing_frame.h"

namespace sluice::net {

struct connection_info {
  uint64_t id = 0;
  std::string peer;          // "ip:port"
  std::string listener_name;  // e.g. PLAINTEXT
};

struct handler_reply {
  enum class action { respond, no_response, close } act = action::respond;
  outgoing_frame frame;
};

// Implemented by the server: turns one request frame (without its size prefix) into a reply.
class frame_handler {
 public:
  virtual ~frame_handler() = default;
  virtual asio::awaitable<handler_reply> handle(const connection_info& conn, std::vector<uint8_t> frame) = 0;
};

struct connection_limits {
  int32_t max_frame_bytes = 104857600;   // socket.request.max.bytes
  size_t max_queued_requests = 16;       // read-ahead before the connection stops reading
  size_t max_queued_responses = 16;      // unsent responses before handling pauses
  int64_t idle_timeout_ms = 600000;      // connections.max.idle.ms; <0 = never
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(asio::ip::tcp::socket socket, frame_handler& handler, connection_limits limits, connection_info info);
  void start();
  void close();

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> process_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> idle_watch();
  asio::awaitable<bool> write_frame(outgoing_frame& f);
  static void notify(asio::steady_timer& t) { t.cancel(); }
  asio::awaitable<void> wait(asio::steady_timer& t);

  asio::ip::tcp::socket _socket;
  frame_handler& _handler;
  connection_limits _limits;
  connection_info _info;
  std::deque<std::vector<uint8_t>> _requests;
  std::deque<outgoing_frame> _responses;
  asio::steady_timer _requests_changed;
  asio::steady_timer _responses_changed;
  asio::steady_timer _idle_timer;
  int64_t _last_activity_ms = 0;
  bool _closed = false;
  bool _reader_done = false;
  bool _in_handler = false;
};

}  // namespace sluice::net
