#pragma once
// The server side of the transaction coordinator (coordinator/txn): one transaction_manager per
// shard, each holding the transactional ids of the __transaction_state partitions that shard
// owns and this broker leads, writing through log_internal_partition (the partition's log, the
// path of Produce with acks=all, waiting up to offsets.commit.timeout.ms for replication, as
// Kafka's transaction.state.log writes use request.timeout.ms-like bounds).
//
// Lifecycle: a partition is loaded when this broker becomes its leader (on_image), by load_all at
// start-up and when the topic is created, or on first use; unloaded by on_image when leadership
// moves or the leader epoch changes (its pending requests get NOT_COORDINATOR).
// The coordinator epoch a partition is loaded in is the partition's leader epoch (Kafka's
// coordinatorEpoch), carried by every marker_work.
//
// Markers: each shard's manager hands its marker_work to that shard's txn_marker_sender, which
// sends WriteTxnMarkers to the partitions' current leaders (this broker included) and reports
// completion with markers_written() on the same shard. Each shard keeps its idle connections to
// other brokers (broker_connections), used by its marker sender and by the KIP-890 check of the
// partitions it leads (txn_verifier).
//
// Threading: manager(s) and everything it owns are touched only on shard s.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "base/clock.h"
#include "coordinator/txn/producer_id_manager.h"
#include "coordinator/txn/transaction_manager.h"
#include "net/shard_group.h"
#include "server/broker_config.h"
#include "server/coordinator_shards.h"
#include "server/partition_manager.h"
#include "server/txn_marker_sender.h"

namespace sluice::server {

// Transaction coordinator settings from the broker config (Kafka names and defaults).
coordinator::txn::txn_config txn_config_from(const broker_config& c);

struct txn_coordinator_settings {
  coordinator::txn::txn_config manager;
  int64_t write_timeout_ms = 5000;     // how long a __transaction_state write waits for the ISR
  int64_t abort_interval_ms = 10000;   // transaction.abort.timed.out.transaction.cleanup.interval.ms
  txn_marker_sender_config markers;
};
txn_coordinator_settings txn_coordinator_settings_from(const broker_config& c);

class txn_coordinator {
 public:
  txn_coordinator(net::shard_group& shards, partition_manager& partitions, int32_t broker_id,
                  coordinator::producer_id_manager& ids, txn_coordinator_settings cfg, sluice::clock& clock);
  ~txn_coordinator();

  using placement = coordinator_shards<coordinator::txn::transaction_manager>::placement;
  // Where `transactional_id` is coordinated under the calling shard's image; nullopt when
  // __transaction_state does not exist yet.
  std::optional<placement> place(const std::string& transactional_id) const {
    return _managers.place(transactional_id);
  }

  // The calling shard's manager, after making sure `partition` (if this broker leads it) is
  // loaded or loading. REQUIRES: on the partition's owner shard.
  coordinator::txn::transaction_manager& manager_for(int32_t partition) { return _managers.manager_for(partition); }
  // The calling shard's manager. REQUIRES: on a shard.
  coordinator::txn::transaction_manager& manager() { return _managers.manager(); }

  // Marks every led __transaction_state partition as loading, then loads them one by one.
  asio::awaitable<void> load_all() { return _managers.load_all(); }
  // Leadership moved (a new image, applied on the calling shard): partitions no longer led here
  // in the epoch they were loaded in are unloaded, and partitions newly led here start loading.
  void on_image(const cluster::metadata_image& img) { _managers.on_image(img); }

  // The longest a handler waits for the manager's answer (write timeout plus a margin).
  int64_t answer_timeout_ms() const { return _cfg.write_timeout_ms + 10'000; }
  const txn_coordinator_settings& settings() const { return _cfg; }

  // The calling shard's inter-broker connections. REQUIRES: on a shard.
  broker_connections& connections() { return *_connections[_shards.current()]; }

  // Starts the per-shard timers (timeout aborts, marker retries, id expiry). Call after the
  // shards run.
  void start() { _managers.start(); }

 private:
  // The per-shard managers, handing their marker_work to _senders[shard].
  std::vector<std::unique_ptr<coordinator::txn::transaction_manager>> make_managers(
      size_t shards, const txn_coordinator_settings& cfg, sluice::clock& clock, coordinator::producer_id_manager& ids);

  net::shard_group& _shards;
  partition_manager& _partitions;
  txn_coordinator_settings _cfg;
  // Declared before _managers, which hand them marker_work, so they outlive the managers; the
  // connections outlive the senders that use them.
  std::vector<std::unique_ptr<broker_connections>> _connections;  // by shard
  std::vector<std::unique_ptr<txn_marker_sender>> _senders;        // by shard
  coordinator_shards<coordinator::txn::transaction_manager> _managers;
};

}  // namespace sluice::server
