#pragma once
// Turns request frames into responses: decodes the header, checks the API and version against
// what this broker implements (handlers.h), decodes the body, runs the handler and encodes the
// response with the right header version. Malformed requests are logged with api key, version
// and byte offset, and the connection is closed (Kafka's behaviour).
#include <atomic>
#include <vector>

#include "net/connection.h"
#include "server/request_context.h"

namespace sluice::server {

class dispatcher final : public net::frame_handler {
 public:
  explicit dispatcher(broker_services& broker) : _broker(broker) {}
  asio::awaitable<net::handler_reply> handle(const net::connection_info& conn, std::vector<uint8_t> frame) override;
  // Requests being handled right now, on all shards (graceful shutdown waits for zero).
  int64_t in_flight() const { return _in_flight.load(); }

 private:
  asio::awaitable<net::handler_reply> dispatch(const net::connection_info& conn, std::vector<uint8_t> frame);
  broker_services& _broker;
  std::atomic<int64_t> _in_flight{0};
};

}  // namespace sluice::server
