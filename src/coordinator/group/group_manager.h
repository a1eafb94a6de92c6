#pragma once
// The classic consumer group protocol (Kafka's GroupCoordinator): one group_manager per shard
// holds every group whose __consumer_offsets partition that shard owns, with their committed
// offsets. Everything here runs on that one shard: no locks.
//
// States: Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and Dead once deleted or
// expired. A JoinGroup answer is delayed until the rebalance completes (every known member
// rejoined, or the largest rebalance timeout passed; for a group leaving Empty, after
// group.initial.rebalance.delay.ms, extended while members keep arriving); a follower's SyncGroup
// answer until the leader sent the assignment and it was written. Delayed answers are callbacks,
// called exactly once, on this shard.
//
// Time: tick() applies every deadline (session timeouts, rebalance and sync timeouts, initial
// delay, offset expiry) from the injected clock; the server calls it periodically, unit tests
// after advancing a manual_clock.
//
// Persistence goes through offsets_store (one per owned __consumer_offsets partition, given by
// the server). Offset commits and group metadata are written as Kafka does with acks=-1: the
// answer (and, for commits and a new assignment, the change of the in-memory state) waits until
// the store reports the write replicated (internal_partition::wait_replicated); a failed write
// is answered with the error Kafka's GroupMetadataManager maps it to and changes nothing.
// Tombstones (DeleteGroups, OffsetDelete, offset expiry) are written like Kafka's
// cleanupGroupMetadata, without waiting for replication. load() rebuilds the state from the
// partition's records.
//
// Transactional offsets (TxnOffsetCommit, Kafka's storeOffsets with a producer id) are written
// as a transactional batch of the producer and kept *pending* per (group, producer id) from the
// append on: fetch_offsets does not return them (with require_stable it answers
// UNSTABLE_OFFSET_COMMIT for their partitions) until complete_txn() reports the producer's
// COMMIT marker in that partition (they become committed unless a commit later in the log
// already replaced them) or its ABORT marker (dropped). load() replays the same from the log:
// pending until the producer's control batch that follows them.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "coordinator/group/offsets_format.h"
#include "coordinator/internal_partition.h"
#include "model/record_batch_builder.h"
#include "protocol/error_code.h"

namespace sluice::coordinator::group {

using errc = protocol::error_code;

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };
// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
const char* state_name(group_state s);

// A __consumer_offsets partition (internal_partition.h).
using offsets_store = internal_partition;

struct group_config {
  int64_t initial_rebalance_delay_ms = 3000;     // group.initial.rebalance.delay.ms
  int32_t min_session_timeout_ms = 6000;         // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;      // group.max.session.timeout.ms
  int32_t max_size = INT32_MAX;                  // group.max.size
  int64_t offsets_retention_ms = 10080LL * 60000;  // offsets.retention.minutes
  int64_t retention_check_interval_ms = 600000;  // offsets.retention.check.interval.ms
  int32_t offset_metadata_max_bytes = 4096;      // offset.metadata.max.bytes
  int64_t new_member_join_timeout_ms = 300000;   // Kafka's GroupCoordinator.NewMemberJoinTimeoutMs
  // offsets.commit.timeout.ms: how long the server's store waits for a write to be replicated
  // before failing it (REQUEST_TIMED_OUT). Used by the store, not by the manager.
  int64_t offsets_commit_timeout_ms = 5000;
};

struct protocol_entry {
  std::string name;
  std::vector<uint8_t> metadata;
};

struct join_request {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<protocol_entry> protocols;
  std::string client_id;
  std::string client_host;
  bool require_known_member_id = false;  // JoinGroup v4+
};

struct join_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<uint8_t> metadata;
};

struct join_response {
  errc error = errc::none;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<join_member> members;  // only for the leader
};

struct sync_request {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> assignments;  // leader only
};

struct sync_response {
  errc error = errc::none;
  std::vector<uint8_t> assignment;
};

struct heartbeat_request {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct leave_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct leave_response {
  errc error = errc::none;
  std::vector<errc> member_errors;  // one per leave_member, in order
};

struct commit_partition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

// TxnOffsetCommit. generation_id / member_id / group_instance_id come with v3+ (defaults
// otherwise: then no membership check, as Kafka's validateOffsetCommit for transactions).
struct txn_commit_request {
  std::string group_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<commit_partition> partitions;
};

struct commit_request {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<commit_partition> partitions;
};

struct fetched_offset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;  // "" when an offset exists, null otherwise (Kafka)
  errc error = errc::none;
};

struct fetch_offsets_response {
  errc error = errc::none;
  std::vector<fetched_offset> offsets;
};

struct described_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::vector<uint8_t> metadata;  // for the selected protocol
  std::vector<uint8_t> assignment;
};

struct describe_response {
  errc error = errc::none;
  std::string group_id;
  std::string state;
  std::string protocol_type;
  std::string protocol;
  std::vector<described_member> members;
};

struct listed_group {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct topic_partition_id {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition_id&) const = default;
};

struct offset_delete_response {
  errc error = errc::none;
  std::vector<errc> partition_errors;  // one per requested partition, in order
};

class group_manager {
 public:
  group_manager(group_config cfg, sluice::clock& clock);
  ~group_manager();
  group_manager(const group_manager&) = delete;
  group_manager& operator=(const group_manager&) = delete;

  // Partition ownership. begin_loading marks the partition so requests get
  // COORDINATOR_LOAD_IN_PROGRESS; load reads the store and makes its groups available; unload
  // drops them (pending callbacks get NOT_COORDINATOR).
  void begin_loading(int32_t partition);
  result<void> load(int32_t partition, std::unique_ptr<offsets_store> store);
  void unload(int32_t partition);
  enum class partition_status { not_owned, loading, loaded };
  partition_status status(int32_t partition) const;

  // Group APIs. `partition` is the group's __consumer_offsets partition (placement.h).
  void join(int32_t partition, join_request req, std::function<void(join_response)> done);
  void sync(int32_t partition, sync_request req, std::function<void(sync_response)> done);
  errc heartbeat(int32_t partition, const heartbeat_request& req);
  leave_response leave(int32_t partition, const std::string& group_id, const std::vector<leave_member>& members);
  // Per-partition errors, in request order, passed to `done` once the write is replicated or
  // failed (possibly before commit returns). The offsets become visible to fetch_offsets only
  // then. Topic/partition existence is the caller's check.
  void commit(int32_t partition, const commit_request& req, std::function<void(std::vector<errc>)> done);
  // Transactional offsets of producer req.producer_id: per-partition errors in request order,
  // passed to `done` once the write is replicated or failed. From the append on they are
  // pending (see the top of this file) until complete_txn decides them.
  void txn_commit(int32_t partition, const txn_commit_request& req, std::function<void(std::vector<errc>)> done);
  // A COMMIT (`commit` true) or ABORT marker of `producer_id` is in __consumer_offsets partition
  // `partition` (written and replicated): that producer's pending offsets in the partition's
  // groups become committed, or are dropped. No-op when the partition is not loaded here or the
  // producer has nothing pending there.
  void complete_txn(int32_t partition, int64_t producer_id, bool commit);
  // `topics` nullopt: every committed offset of the group. `require_stable` (OffsetFetch v7+):
  // partitions with pending transactional offsets answer UNSTABLE_OFFSET_COMMIT (offset -1)
  // instead of the committed offset.
  fetch_offsets_response fetch_offsets(int32_t partition, const std::string& group_id,
                                       const std::optional<std::vector<topic_partition_id>>& partitions,
                                       bool require_stable = false);
  describe_response describe(int32_t partition, const std::string& group_id);
  // Groups of every loaded partition; `states` empty = all (names compared case-insensitively).
  std::vector<listed_group> list(const std::vector<std::string>& states) const;
  errc delete_group(int32_t partition, const std::string& group_id);
  offset_delete_response delete_offsets(int32_t partition, const std::string& group_id,
                                        const std::vector<topic_partition_id>& partitions);

  // Applies every deadline due at the clock's current time.
  void tick();

  // True while some owned partition is still loading (ListGroups reports it).
  bool loading() const;
  // Number of groups in loaded partitions (tests, logs).
  size_t group_count() const;

 private:
  struct member;
  struct group;
  struct partition_data;

  partition_data* owned(int32_t partition, errc& err);
  group* find_group(partition_data& pd, const std::string& id);
  group& get_or_create(partition_data& pd, const std::string& id);

  void add_member_and_rebalance(partition_data& pd, group& g, const join_request& req, const std::string& member_id,
                                std::function<void(join_response)> done);
  void update_member_and_rebalance(partition_data& pd, group& g, member& m, const join_request& req,
                                   std::function<void(join_response)> done);
  void join_static_unknown(partition_data& pd, group& g, const join_request& req, std::function<void(join_response)> done);
  void prepare_rebalance(partition_data& pd, group& g, const char* reason);
  void maybe_complete_join(partition_data& pd, group& g);
  void complete_join(partition_data& pd, group& g);
  void remove_member(partition_data& pd, group& g, const std::string& member_id, const char* reason);
  void remove_pending_sync(group& g, const std::string& member_id);
  void set_and_propagate_assignment(partition_data& pd, group& g,
                                    const std::vector<std::pair<std::string, std::vector<uint8_t>>>& assignments);
  void propagate_sync_error(group& g, errc e);
  static void fail_pending_calls(member& m, const std::string& member_id, errc e);
  // Writes the group's metadata (with `assignments` instead of the members' current ones when
  // given) and calls done with the store's outcome (zero = replicated), possibly at once.
  void store_group(partition_data& pd, group& g,
                   const std::vector<std::pair<std::string, std::vector<uint8_t>>>* assignments,
                   std::function<void(std::error_code)> done);
  // Appends `records` to the partition's store and calls done once the write is replicated or
  // failed (write_errc), possibly at once. If the partition is unloaded first, done gets
  // write_errc::not_leader from unload(). done must look the partition up again: it may run
  // after the partition or group it was about is gone.
  void write(partition_data& pd, const std::vector<model::record_data>& records,
             std::function<void(std::error_code)> done);
  // The first half of write(), for callers that need the batch's position in the log: `txn`
  // (producer id, epoch) non-null appends the producer's transactional batch; returns the batch's
  // base offset. The second half is pd.writes.wait(), `done` as for write().
  struct txn_producer {
    int64_t producer_id;
    int16_t producer_epoch;
  };
  result<int64_t> append_records(partition_data& pd, const std::vector<model::record_data>& records,
                                 const txn_producer* txn);
  // The write of OffsetCommit and TxnOffsetCommit after validation (Kafka's storeOffsets):
  // `txn` null = plain commit, applied once replicated; else pending for that producer.
  void store_offsets(partition_data& pd, group& g, const std::vector<commit_partition>& partitions,
                     const txn_producer* txn, std::function<void(std::vector<errc>)> done);
  // complete_txn for a loaded (or loading) partition: live markers and load replay alike.
  void complete_pending_txn(partition_data& pd, int64_t producer_id, bool commit);
  // Drops the producer's pending offsets written by the batch at `log_offset` (its write
  // failed), Kafka's failPendingTxnOffsetCommit.
  void fail_pending_txn(partition_data& pd, const std::string& group_id, int64_t producer_id, int64_t log_offset);
  void transition(group& g, group_state s);
  void refresh_heartbeat(const group& g, member& m);
  void tick_group(partition_data& pd, group& g, int64_t now);
  void expire_offsets(partition_data& pd);
  bool all_joined(const group& g) const;
  std::optional<std::string> select_protocol(const group& g) const;
  bool supports_protocols(const group& g, const std::string& type, const std::vector<protocol_entry>& protocols) const;
  std::string new_member_id(const std::string& client_id, const std::optional<std::string>& instance_id);
  void apply_record(partition_data& pd, const batch_info& batch, const model::decoded_record& r);

  group_config _cfg;
  sluice::clock& _clock;
  std::map<int32_t, std::unique_ptr<partition_data>> _partitions;
  uint64_t _member_seq = 0;
  uint64_t _id_salt;
  int64_t _next_expiry_check_ms = 0;
};

}  // namespace sluice::coordinator::group
