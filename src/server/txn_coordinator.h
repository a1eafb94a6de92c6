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
// completion with markers_written() on the same shard.
//
// Threading: manager(s) and everything it owns are touched only on shard s.
#include <functional>
#include <map>
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

  struct placement {
    int32_t partition;
    net::shard_id shard;
  };
  // Where `transactional_id` is coordinated under the calling shard's image; nullopt when
  // __transaction_state does not exist yet.
  std::optional<placement> place(const std::string& transactional_id) const;

  // The calling shard's manager, after making sure `partition` (if this broker leads it) is
  // loaded or loading. REQUIRES: on the partition's owner shard.
  coordinator::txn::transaction_manager& manager_for(int32_t partition);
  // The calling shard's manager. REQUIRES: on a shard.
  coordinator::txn::transaction_manager& manager();

  // Marks every led __transaction_state partition as loading, then loads them one by one.
  asio::awaitable<void> load_all();
  // Leadership moved (a new image, applied on the calling shard): partitions no longer led here
  // in the epoch they were loaded in are unloaded (as group_coordinator::on_image), and
  // partitions newly led here start loading.
  void on_image(const cluster::metadata_image& img);

  // The longest a handler waits for the manager's answer (write timeout plus a margin).
  int64_t answer_timeout_ms() const { return _cfg.write_timeout_ms + 10'000; }
  const txn_coordinator_settings& settings() const { return _cfg; }

  // Starts the per-shard timers (timeout aborts, marker retries, id expiry). Call after the
  // shards run.
  void start();

 private:
  void load_partition(int32_t partition);
  void begin_loading(int32_t partition, int32_t leader_epoch);
  void schedule_tick(net::shard_id s);

  net::shard_group& _shards;
  partition_manager& _partitions;
  int32_t _broker_id;
  sluice::clock& _clock;
  txn_coordinator_settings _cfg;
  std::vector<std::unique_ptr<txn_marker_sender>> _senders;                       // by shard
  std::vector<std::unique_ptr<coordinator::txn::transaction_manager>> _managers;  // by shard
  std::vector<std::unique_ptr<asio::steady_timer>> _timers;                        // by shard
  // By shard: the leader epoch each loading/loaded partition was taken in.
  std::vector<std::map<int32_t, int32_t>> _taken_in_epoch;
};

}  // namespace sluice::server
