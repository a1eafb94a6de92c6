#pragma once
// Writes the COMMIT/ABORT markers of a transaction (coordinator::txn::marker_work) the way Kafka's
// TransactionMarkerChannelManager does: the partitions are grouped by their current leader and each
// leader gets a WriteTxnMarkers v1 request over TCP at the same time, this broker included (one
// path for every partition). Partitions that fail (NOT_LEADER_OR_FOLLOWER, an unknown leader, a
// connection error, any other error) are retried, regrouped by the then current leaders, with
// backoff, until every one succeeded; a partition whose topic no longer exists (or that answers
// UNKNOWN_TOPIC_OR_PARTITION after its topic was deleted) counts as done, as in Kafka. Then the
// work is reported done, and the coordinator moves the transaction to Complete*.
//
// Work that is no longer wanted (the coordinator moved, the transaction completed or was
// fenced: `still_wanted` answers false) is dropped between attempts. A work re-emitted while the
// same work is still being sent is ignored.
//
// Threading: one sender per shard, used on that shard, with that shard's broker_connections
// (idle connections to each destination are reused across transactions).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <asio.hpp>

#include "coordinator/txn/transaction_manager.h"
#include "server/broker_connections.h"

namespace sluice::server {

struct txn_marker_sender_deps {
  // The current leader of a partition: a destination, or nullopt when the leader is unknown
  // (retried). `topic_exists` false: the topic was deleted (the partition counts as done).
  std::function<std::optional<cluster::broker_endpoint>(const std::string& topic, int32_t partition)> leader_of;
  std::function<bool(const std::string& topic)> topic_exists;
  // Whether the coordinator still waits for this work (checked before every attempt).
  std::function<bool(const coordinator::txn::marker_work&)> still_wanted;
  // Every marker is written.
  std::function<void(const coordinator::txn::marker_work&)> done;
};

struct txn_marker_sender_config {
  int64_t request_timeout_ms = 30000;  // per connect and per request
  int64_t retry_backoff_ms = 100;      // first backoff, doubled per failed attempt
  int64_t max_backoff_ms = 2000;
};

class txn_marker_sender {
 public:
  // `connections` (the shard's) outlives the sender.
  txn_marker_sender(asio::any_io_executor ex, broker_connections& connections, txn_marker_sender_deps deps,
                    txn_marker_sender_config cfg);
  ~txn_marker_sender();
  txn_marker_sender(const txn_marker_sender&) = delete;
  txn_marker_sender& operator=(const txn_marker_sender&) = delete;

  // Starts sending `work` (a copy is kept) unless the same work is already in flight.
  void send(const coordinator::txn::marker_work& work);
  // Works in flight (tests).
  size_t in_flight() const { return _in_flight.size(); }
  // Stops every loop at its next step. Call before destruction.
  void stop();

 private:
  using work_key = std::tuple<int32_t, std::string, int64_t, int16_t, bool>;
  // One attempt at the partitions still pending: a send per leader, all at once.
  struct round_state {
    explicit round_state(asio::any_io_executor ex) : all_answered(ex, asio::steady_timer::time_point::max()) {}
    size_t sending = 0;                                     // leaders not answered yet
    std::vector<coordinator::txn::topic_partition> retry;   // partitions to try again
    asio::steady_timer all_answered;                        // cancelled when sending reaches 0
  };
  asio::awaitable<void> run(coordinator::txn::marker_work work, std::shared_ptr<bool> alive);
  // Writes `tps`' markers at their leader `dest`, adds those not written to round->retry and
  // tells the round this leader answered.
  asio::awaitable<void> send_to_leader(coordinator::txn::marker_work work, cluster::broker_endpoint dest,
                                       std::vector<coordinator::txn::topic_partition> tps,
                                       std::shared_ptr<round_state> round, std::shared_ptr<bool> alive);
  // One WriteTxnMarkers request; returns the partitions not written.
  asio::awaitable<std::vector<coordinator::txn::topic_partition>> write_markers(
      coordinator::txn::marker_work work, cluster::broker_endpoint dest,
      std::vector<coordinator::txn::topic_partition> tps, std::shared_ptr<bool> alive);

  asio::any_io_executor _ex;
  broker_connections& _connections;
  txn_marker_sender_deps _deps;
  txn_marker_sender_config _cfg;
  std::set<work_key> _in_flight;
  std::shared_ptr<bool> _alive = std::make_shared<bool>(true);
};

}  // namespace sluice::server
