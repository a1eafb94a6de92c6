#pragma once
// Accepts connections for one listener on every shard: each shard binds its own acceptor to the
// same address with SO_REUSEPORT, so the kernel spreads new connections across shards and a
// connection lives on the shard that accepted it.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <asio.hpp>

#include "base/result.h"
#include "net/connection.h"
#include "net/shard_group.h"

namespace sluice::net {

struct listener_config {
  std::string name = "PLAINTEXT";
  std::string host;  // empty = all interfaces
  uint16_t port = 9092;  // 0 = ephemeral (the bound port is reported by port())
  int backlog = 50;
  int send_buffer_bytes = -1;
  int receive_buffer_bytes = -1;
  connection_limits limits;
};

class listener {
 public:
  listener(shard_group& shards, frame_handler& handler, listener_config cfg);
  ~listener();
  // Binds on every shard; returns an error message on failure (address in use, bad host).
  std::optional<std::string> bind();
  void start_accepting();
  // Stops accepting new connections (existing ones continue). Safe from any thread.
  void stop_accepting();
  uint16_t port() const { return _bound_port; }
  const listener_config& config() const { return _cfg; }

 private:
  asio::awaitable<void> accept_loop(shard_id s);

  shard_group& _shards;
  frame_handler& _handler;
  listener_config _cfg;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> _acceptors;
  uint16_t _bound_port = 0;
  static std::atomic<uint64_t> next_connection_id;
};

}  // namespace sluice::net
