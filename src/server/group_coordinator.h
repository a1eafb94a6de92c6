#pragma once
// The server side of the group coordinator (coordinator/group): one group_manager per shard,
// each holding the groups of the __consumer_offsets partitions that shard owns, and the
// offsets_store those managers write through (log_internal_partition: the partition's log, the
// path of Produce with acks=all, waiting up to offsets.commit.timeout.ms for replication).
//
// Threading: manager(s) and everything it owns are touched only on shard s. Handlers find the
// group's partition and shard with place(), hop there with shards.invoke_on and call the
// manager of that shard.
#include <optional>
#include <string>

#include <asio.hpp>

#include "base/clock.h"
#include "coordinator/group/group_manager.h"
#include "net/shard_group.h"
#include "server/broker_config.h"
#include "server/coordinator_shards.h"
#include "server/partition_manager.h"

namespace sluice::server {


// Group coordinator settings from the broker config (Kafka names and defaults).
coordinator::group::group_config group_config_from(const broker_config& c);

class group_coordinator {
 public:
  group_coordinator(net::shard_group& shards, partition_manager& partitions, int32_t broker_id,
                    coordinator::group::group_config cfg, sluice::clock& clock);
  ~group_coordinator();

  using placement = coordinator_shards<coordinator::group::group_manager>::placement;
  // Where `group_id` is coordinated under the calling shard's image; nullopt when
  // __consumer_offsets does not exist yet.
  std::optional<placement> place(const std::string& group_id) const { return _managers.place(group_id); }

  // The calling shard's manager, after making sure `partition` (if this broker leads it) is
  // loaded or loading. REQUIRES: on the partition's owner shard.
  coordinator::group::group_manager& manager_for(int32_t partition) { return _managers.manager_for(partition); }
  // The calling shard's manager. REQUIRES: on a shard.
  coordinator::group::group_manager& manager() { return _managers.manager(); }

  // Marks every led __consumer_offsets partition as loading, then loads them one by one (other
  // requests run in between and get COORDINATOR_LOAD_IN_PROGRESS). Completes when all loaded.
  asio::awaitable<void> load_all() { return _managers.load_all(); }

  // Leadership moved (a new image, applied on the calling shard): partitions of this shard's
  // manager that this broker no longer leads, or now leads in a different leader epoch (their
  // state may be stale), are unloaded, answering NOT_COORDINATOR to parked calls; the next
  // request for a led partition loads it again from the log. REQUIRES: on a shard.
  void on_image(const cluster::metadata_image& img) { _managers.on_image(img); }

  // A COMMIT (`commit` true) or ABORT transaction marker of `producer_id` was appended and
  // replicated to `tp`. For a __consumer_offsets partition whose groups this broker
  // coordinates, the producer's pending transactional offsets there become committed or are
  // dropped (group_manager::complete_txn); any other partition is ignored. REQUIRES: on tp's
  // owner shard (partition_manager's txn marker observer runs there), so it can be registered
  // as that observer directly.
  void on_txn_marker(const model::topic_partition& tp, int64_t producer_id, bool commit);

  // offsets.commit.timeout.ms: the longest a write waits for replication before it fails.
  int64_t commit_timeout_ms() const { return _commit_timeout_ms; }

  // Starts the per-shard timers that apply group deadlines (session and rebalance timeouts,
  // offset expiry). Call after the shards run.
  void start() { _managers.start(); }

 private:
  net::shard_group& _shards;
  partition_manager& _partitions;
  int64_t _commit_timeout_ms;  // offsets.commit.timeout.ms
  coordinator_shards<coordinator::group::group_manager> _managers;
};

}  // namespace sluice::server
