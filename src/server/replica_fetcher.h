#pragma once
// The follower side of replication (Kafka's ReplicaFetcherManager / ReplicaFetcherThread): for
// every partition this broker follows, fetch the leader's new batches and append them to the local
// log. One fetch loop and one TCP connection per source broker, batched across every partition
// followed from it; Fetch v12 with replica_id = this broker, current_leader_epoch and
// last_fetched_epoch, so the leader can tell a diverged follower where to truncate (KIP-279/320).
// The per-partition work (append, truncate, HW) is replication::apply_fetch_answer, run on the
// partition's owning shard.
//
// Thread contract: everything here lives on one shard (`home`); follow()/unfollow() may be called
// from any shard (they post to home). stop() is called once from outside the shards, before they
// stop.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include <asio.hpp>

#include "model/topic_partition.h"
#include "net/shard_group.h"

namespace sluice::server {

class partition_manager;

struct replica_fetcher_config {
  int32_t max_wait_ms = 500;                   // replica.fetch.wait.max.ms
  int32_t min_bytes = 1;                       // replica.fetch.min.bytes
  int32_t partition_max_bytes = 1048576;       // replica.fetch.max.bytes
  int32_t response_max_bytes = 10485760;       // replica.fetch.response.max.bytes
  int64_t backoff_ms = 1000;                   // replica.fetch.backoff.ms
  int64_t socket_timeout_ms = 30000;           // replica.socket.timeout.ms
};

class replica_fetcher_manager {
 public:
  replica_fetcher_manager(partition_manager& partitions, net::shard_id home, replica_fetcher_config cfg);
  ~replica_fetcher_manager();
  replica_fetcher_manager(const replica_fetcher_manager&) = delete;
  replica_fetcher_manager& operator=(const replica_fetcher_manager&) = delete;

  // This broker follows `tp`, led by `leader` in `leader_epoch`: fetch it from there (replacing
  // an earlier source). Any thread.
  void follow(const model::topic_partition& tp, int32_t leader, int32_t leader_epoch);
  // Stop fetching `tp` (it is led here now, has no leader, or was deleted). Any thread.
  void unfollow(const model::topic_partition& tp);
  // Closes every connection and ends the fetch loops (blocks until home has done so). Call once,
  // from outside the shards, while they still run.
  void stop();

  // Partitions currently followed (home shard; tests).
  size_t followed_count() const { return _followed.size(); }

 private:
  struct followed {
    int32_t leader = -1;
    int32_t leader_epoch = -1;
    int64_t retry_after_ms = 0;  // backoff after a partition error
  };
  struct source;

  void on_follow(const model::topic_partition& tp, int32_t leader, int32_t leader_epoch);
  void ensure_source(int32_t broker);
  asio::awaitable<void> run_source(std::shared_ptr<source> src);
  asio::awaitable<bool> connect(source& src);
  asio::awaitable<void> sleep(source& src, int64_t ms);
  int64_t now_ms() const;

  partition_manager& _partitions;
  net::shard_group& _shards;
  net::shard_id _home;
  replica_fetcher_config _cfg;
  bool _stopped = false;
  std::map<model::topic_partition, followed> _followed;    // home shard only
  std::map<int32_t, std::shared_ptr<source>> _sources;     // by source broker id; home shard only
};

}  // namespace sluice::server
