#pragma once
// Partitions hosted by this broker, each owned by exactly one shard (DESIGN.md §2).
//
// shard_of(tp) is a pure function of the topic-partition, so any shard can route work to the
// owner without shared state. The `partition` objects, their logs and fetch waiters are touched
// only on the owning shard. Each shard also keeps its own pointer to the latest metadata image,
// replaced by message passing when the controller publishes a change.
#include <functional>
#include <map>
#include <string>
#include <memory>
#include <unordered_map>
#include <vector>

#include <asio.hpp>

#include "base/clock.h"
#include "cluster/metadata_image.h"
#include "model/topic_partition.h"
#include "net/shard_group.h"
#include "replication/isr_write.h"
#include "replication/leader_state.h"
#include "storage/log.h"
#include "storage/log_config.h"
#include "storage/log_manager.h"

namespace sluice::server {

// Someone waiting for new data in one or more partitions (a long-polling Fetch). Lives on the
// waiting request's shard; partitions hold weak references and wake it by posting there.
struct fetch_waiter {
  asio::any_io_executor executor;
  std::shared_ptr<asio::steady_timer> timer;  // cancelled on wake-up
  bool woken = false;
};

class partition {
 public:
  partition(model::topic_partition tp, storage::log* log, storage::log_config cfg, int32_t leader_epoch)
      : _tp(std::move(tp)), _log(log), _config(std::move(cfg)), _leader_epoch(leader_epoch) {}
  // Fails outstanding acks=all waiters (NOT_LEADER_OR_FOLLOWER).
  ~partition();
  partition(const partition&) = delete;
  partition& operator=(const partition&) = delete;

  const model::topic_partition& tp() const { return _tp; }
  storage::log& log() { return *_log; }
  const storage::log_config& config() const { return _config; }
  void set_config(storage::log_config c) { _config = std::move(c); }
  int32_t leader_epoch() const { return _leader_epoch; }
  void set_leader_epoch(int32_t e) { _leader_epoch = e; }

  void add_waiter(const std::shared_ptr<fetch_waiter>& w);
  // Wakes every waiter (after an append or a truncation).
  void notify_waiters();

  // Replication role, from the latest image. leader_id() == the broker's id <=> leader() is set.
  int32_t leader_id() const { return _leader_id; }
  // The leader-side replica state while this broker leads the partition, else nullptr.
  replication::leader_state* leader() { return _leader.get(); }
  // The checks every leader-only request makes (Fetch, ListOffsets, OffsetForLeaderEpoch):
  // the client's current leader epoch (-1 = unchecked) against ours, FENCED_LEADER_EPOCH when
  // it is older and UNKNOWN_LEADER_EPOCH when newer; then NOT_LEADER_OR_FOLLOWER off the leader.
  protocol::error_code check_leader(int32_t current_leader_epoch) const {
    if (current_leader_epoch >= 0 && current_leader_epoch != _leader_epoch)
      return current_leader_epoch < _leader_epoch ? protocol::error_code::fenced_leader_epoch
                                                  : protocol::error_code::unknown_leader_epoch;
    return _leader ? protocol::error_code::none : protocol::error_code::not_leader_or_follower;
  }
  // After leader() saw the log grow or a follower fetch: copies its high watermark into the log
  // (never backwards; the log derives the LSO from it and the open transactions) and wakes fetch
  // waiters if it moved. Returns true if it moved.
  bool publish_high_watermark();

 private:
  friend class partition_manager;
  model::topic_partition _tp;
  storage::log* _log;
  storage::log_config _config;
  int32_t _leader_epoch;
  int32_t _leader_id = -1;
  std::unique_ptr<replication::leader_state> _leader;
  std::vector<std::weak_ptr<fetch_waiter>> _waiters;
};

class partition_manager {
 public:
  // `static_broker_settings`: the broker's explicitly set keys (server.properties, --set); the
  // image's dynamic broker configs are layered on top to derive topic defaults.
  // `broker_id`: this broker (the image's leader/replica ids are compared with it).
  partition_manager(net::shard_group& shards, storage::log_manager& logs,
                    std::map<std::string, std::string> static_broker_settings, int32_t broker_id = 0,
                    sluice::clock& clock = system_clock::instance());

  int32_t broker_id() const { return _broker_id; }
  sluice::clock& clock() { return _clock; }
  // The ISR write hook (replication/isr_write.h). Set before the shards start; without one
  // (single broker) the ISR never changes.
  void set_isr_write_fn(replication::isr_write_fn fn) { _isr_write = std::move(fn); }
  // Called on each shard after that shard applied a new image (the group coordinator follows
  // leadership of __consumer_offsets with it). Set before the shards start.
  void set_image_listener(std::function<void(const cluster::metadata_image&)> fn) { _image_listener = std::move(fn); }
  // The follower fetcher (replica_fetcher.h), told on the partition's shard whenever this broker
  // starts following a partition (leader id, leader epoch) or stops (leader -1: it leads now, the
  // partition has no leader, or it is no longer hosted here). Set before the shards start;
  // without one (single broker) nothing is followed.
  using follow_fn = std::function<void(const model::topic_partition&, int32_t leader, int32_t leader_epoch)>;
  void set_follow_fn(follow_fn fn) { _follow = std::move(fn); }
  // Replication housekeeping of one led partition, on its shard: times out acks=all waiters
  // and starts an ISR shrink/expand write if one is due. Called after follower fetches and
  // from the periodic task.
  void run_replication_tasks(partition& p);

  net::shard_id shard_of(const model::topic_partition& tp) const;

  // The partition if this shard owns it and this broker hosts a replica of it. REQUIRES: called
  // on shard_of(tp).
  partition* get(const model::topic_partition& tp);
  // The error for a request about a partition get() did not find (Kafka's
  // ReplicaManager.getPartitionOrError): NOT_LEADER_OR_FOLLOWER when the partition exists in the
  // cluster but has no replica here, else UNKNOWN_TOPIC_OR_PARTITION.
  protocol::error_code not_hosted_error(const model::topic_partition& tp) const;
  // The partition if this broker leads it in the client's leader epoch (-1 = unchecked), else
  // nullptr with `err` set: not_hosted_error(tp), or partition::check_leader's error.
  // REQUIRES: called on shard_of(tp).
  partition* get_leader(const model::topic_partition& tp, int32_t current_leader_epoch, protocol::error_code& err);

  // The latest image as seen by the calling shard (or the newest, off-shard).
  cluster::image_ptr image() const;

  // Brings every shard in line with `img`: creates logs for new partitions, updates configs,
  // removes partitions of deleted topics. Completes when all shards are done.
  asio::awaitable<void> apply(cluster::image_ptr img);
  // Same, blocking; for startup before the shards run requests.
  void apply_blocking(cluster::image_ptr img);

  // The effective log config of a topic: topic defaults (static broker settings + dynamic broker
  // configs of the image) + the topic's overrides.
  storage::log_config effective_config(const cluster::topic_metadata& t) const;
  storage::log_config effective_config(const cluster::topic_metadata& t, const cluster::metadata_image& img) const;
  // Topic defaults under the latest image.
  storage::log_config topic_defaults() const;
  storage::log_config topic_defaults(const cluster::metadata_image& img) const;

  storage::log_manager& logs() { return _logs; }
  net::shard_group& shards() { return _shards; }

  // ---- transactions (issue 8) ----
  // Appends one COMMIT/ABORT marker for (producer_id, producer_epoch) to `tp` as its leader;
  // `end_offset` is then the exclusive end of the marker, for await_txn_marker. Callable from any
  // shard: hops to shard_of(tp) and back. Errors as Kafka's WriteTxnMarkers:
  // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS (below
  // min.insync.replicas), INVALID_PRODUCER_EPOCH (older epoch than the partition's producer
  // state), TRANSACTION_COORDINATOR_FENCED, KAFKA_STORAGE_ERROR. Pass named variables, never
  // temporaries (GCC 12 coroutine bug).
  struct marker_append {
    protocol::error_code error;
    int64_t end_offset = -1;
    int32_t leader_epoch = -1;  // the epoch it was appended in
  };
  asio::awaitable<marker_append> append_txn_marker(model::topic_partition tp, int64_t producer_id,
                                                   int16_t producer_epoch, bool commit, int32_t coordinator_epoch);
  // Completes when the marker append_txn_marker wrote up to `end_offset` in `leader_epoch` is
  // replicated (the HW passes it): NONE, or as await_replication (REQUEST_TIMED_OUT at
  // deadline_mono_ms). After a marker on __consumer_offsets is replicated the txn marker observer
  // runs (on the partition's shard). Callable from any shard.
  asio::awaitable<protocol::error_code> await_txn_marker(model::topic_partition tp, int64_t producer_id, bool commit,
                                                         int64_t end_offset, int32_t leader_epoch,
                                                         int64_t deadline_mono_ms);
  using txn_marker_observer =
      std::function<void(const model::topic_partition&, int64_t producer_id, bool commit)>;
  // Set before the shards start (the group coordinator completes transactional offset commits).
  void set_txn_marker_observer(txn_marker_observer fn) { _txn_marker_observer = std::move(fn); }
  // KIP-890 part 1: asked before appending a transactional batch of a producer that has no
  // open transaction on the partition; a non-none answer is the partition's Produce error and
  // nothing is appended. Runs on the partition's shard. Without one, such batches are appended.
  using txn_verifier = std::function<asio::awaitable<protocol::error_code>(
      std::string transactional_id, int64_t producer_id, int16_t producer_epoch, model::topic_partition tp)>;
  void set_txn_verifier(txn_verifier fn) { _txn_verifier = std::move(fn); }
  const txn_verifier& verifier() const { return _txn_verifier; }

  // On shard_of(tp), after this broker as leader appended up to end_offset (exclusive) in
  // `leader_epoch`: waits until the HW reaches it. NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND (the
  // ISR shrank below min.insync.replicas), NOT_LEADER_OR_FOLLOWER (leadership moved, also when the
  // partition is led again in a later epoch: the append may have been truncated meanwhile),
  // REQUEST_TIMED_OUT at deadline_mono_ms. The acks=all path of Produce and of markers.
  asio::awaitable<protocol::error_code> await_replication(model::topic_partition tp, int64_t end_offset,
                                                          int32_t leader_epoch, int64_t deadline_mono_ms);

  // Runs `fn` on every partition, shard by shard (periodic tasks). Completes when all are done.
  // `fn` must outlive the returned awaitable (taken by reference: see the GCC 12 note in .cc).
  asio::awaitable<void> for_each_partition(const std::function<void(partition&)>& fn);

 private:
  void apply_on_shard(net::shard_id s, const cluster::image_ptr& img);
  // Role change of one partition per the image (become leader / follower / same role).
  void apply_role(partition& p, const cluster::partition_metadata& pm);
  replication::leader_config leader_config_of(const partition& p) const;

  struct shard_state {
    std::unordered_map<model::topic_partition, std::unique_ptr<partition>> partitions;
    cluster::image_ptr image;
  };
  net::shard_group& _shards;
  storage::log_manager& _logs;
  std::map<std::string, std::string> _static_settings;
  int32_t _broker_id;
  sluice::clock& _clock;
  replication::isr_write_fn _isr_write;
  std::function<void(const cluster::metadata_image&)> _image_listener;
  follow_fn _follow;
  txn_marker_observer _txn_marker_observer;
  txn_verifier _txn_verifier;
  std::vector<shard_state> _state;  // indexed by shard; each touched only by its shard
  mutable std::mutex _latest_mu;
  cluster::image_ptr _latest;  // for off-shard callers
};

}  // namespace sluice::server
