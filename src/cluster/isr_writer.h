#pragma once
// isr_writer: the control-plane worker thread behind the data plane's isr_write_fn hook
// (issue7 contract). Partition leaders (on shard threads) submit ISR changes; this thread runs
// the blocking update_isr (partition_state.h) calls in submission order and reports each
// outcome through `done` on this thread (the data plane posts back to the owning shard).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/metadata_store.h"

namespace sluice::cluster {

class isr_writer {
 public:
  // done(ok, new_partition_epoch); new_partition_epoch is -1 when !ok.
  using done_fn = std::function<void(bool ok, int32_t new_partition_epoch)>;

  explicit isr_writer(metadata_store& store);
  ~isr_writer();  // stops; requests still queued are answered with ok=false
  isr_writer(const isr_writer&) = delete;
  isr_writer& operator=(const isr_writer&) = delete;

  // Thread-safe, never blocks on the store.
  void submit(std::string topic, int32_t partition, int32_t leader, int32_t leader_epoch, std::vector<int32_t> new_isr,
              int32_t expected_partition_epoch, done_fn done);

 private:
  struct request {
    std::string topic;
    int32_t partition;
    int32_t leader;
    int32_t leader_epoch;
    std::vector<int32_t> new_isr;
    int32_t expected_partition_epoch;
    done_fn done;
  };
  void run();

  metadata_store& _store;
  std::mutex _mu;
  std::condition_variable _cv;
  std::deque<request> _queue;
  bool _stopping = false;
  std::thread _thread;
};

}  // namespace sluice::cluster
