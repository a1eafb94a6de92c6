#pragma once
// The idle inter-broker connections of one shard, kept by destination broker for reuse. The
// transaction coordinator's marker sender and the partition leaders' KIP-890 check ask other
// brokers once or more per transaction; a new connection each time would cost a handshake and
// leave a socket in TIME_WAIT per request.
//
// request() takes an idle connection to the destination (or opens one), sends one request on it
// and, if the connection is still usable, keeps it idle again; at most `max_idle_per_broker`
// are kept per destination, the others are closed. A destination broker that moved to another
// host or port has its idle connections closed. A reused connection can have been closed by the
// other side while idle (e.g. it restarted): when a request on a reused connection fails, it is
// sent once more on a new connection. Only requests that may be repeated are sent this way
// (WriteTxnMarkers: a marker written twice is a no-op; DescribeTransactions: a read).
//
// Threading: one object per shard, used on that shard only. The idle set lives in shared state
// that a request in progress keeps alive, so a request may outlive the object (shutdown).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio.hpp>

#include "base/result.h"
#include "cluster/metadata_image.h"
#include "server/broker_client.h"

namespace sluice::server {

class broker_connections {
 public:
  broker_connections(asio::any_io_executor ex, size_t max_idle_per_broker = 4);
  broker_connections(const broker_connections&) = delete;
  broker_connections& operator=(const broker_connections&) = delete;

  // Sends `req` to `to` and reads its response, each step (connect, request) bounded by
  // `timeout_ms`. Errors: asio's for a connection that failed or timed out, bad_message for an
  // answer that does not decode (see broker_client::request).
  template <typename Api>
  asio::awaitable<result<typename Api::response>> request(cluster::broker_endpoint to, typename Api::request req,
                                                          int16_t version, int64_t timeout_ms) {
    auto state = _state;  // kept alive by this frame
    for (int attempt = 0;; ++attempt) {
      auto taken = take_idle(*state, to);
      const bool reused = taken != nullptr;
      if (!taken) {
        taken = std::make_unique<broker_client>(state->ex);
        if (auto ec = co_await taken->connect(to.host, to.port, timeout_ms); ec) co_return ec;
        ++state->opened;
      }
      auto resp = co_await taken->request<Api>(req, version, timeout_ms);
      if (resp) {
        give_back(*state, to, std::move(taken));
        co_return resp;
      }
      if (!reused || attempt > 0) co_return resp.error();
    }
  }

  // Connections opened so far, and idle now (tests, metrics).
  int64_t opened() const { return _state->opened; }
  size_t idle(int32_t broker_id) const;

 private:
  struct idle_set {
    cluster::broker_endpoint address;
    std::vector<std::unique_ptr<broker_client>> clients;
  };
  struct state {
    asio::any_io_executor ex;
    size_t max_idle_per_broker;
    std::map<int32_t, idle_set> idle;  // by broker id
    int64_t opened = 0;
  };
  static std::unique_ptr<broker_client> take_idle(state& s, const cluster::broker_endpoint& to);
  static void give_back(state& s, const cluster::broker_endpoint& to, std::unique_ptr<broker_client> client);

  std::shared_ptr<state> _state;
};

}  // namespace sluice::server
