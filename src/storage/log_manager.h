#pragma once
// All partition logs of a broker across its log.dirs (Kafka's LogManager): loads and recovers
// them at startup, creates and deletes partitions, writes the per-dir checkpoint files
// (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// replication-offset-checkpoint) and the clean-shutdown marker .kafka_cleanshutdown
// (docs/format/checkpoints.md, docs/format/clean-shutdown.md).
//
// Thread contract:
//  - The partition map is guarded by a mutex; open/create/get/remove/partitions/
//    run_periodic_tasks/shutdown may be called from any thread.
//  - Each log* is driven by one owning thread (its shard), which also calls log::run_periodic()
//    for it (retention, flush.ms, deferred deletes) and log::set_config.
//  - run_periodic_tasks() only reads each log's atomic offsets (for the checkpoints) and removes
//    deleted directories, so a timer on any thread may call it. Single-threaded users (tests,
//    tools) pass include_logs=true to also run every log's run_periodic() there.
//  - remove(tp) destroys the log: the owner must have stopped using the log* first. Ranges from
//    earlier reads stay valid.
//  - shutdown() requires that no thread uses any log any more.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "model/topic_partition.h"
#include "storage/file_system.h"
#include "storage/log.h"
#include "storage/log_config.h"

namespace sluice::storage {

struct log_manager_config {
  std::vector<std::string> log_dirs;                       // log.dirs
  log_config default_config;                               // topic defaults (see log_config.h)
  int64_t retention_check_interval_ms = 300'000;           // log.retention.check.interval.ms
  int64_t flush_scheduler_interval_ms = long_max;          // log.flush.scheduler.interval.ms
  int64_t producer_id_expiration_ms = 86'400'000;          // producer.id.expiration.ms
  int64_t producer_id_expiration_check_interval_ms = 600'000;  // producer.id.expiration.check.interval.ms
  int64_t flush_offset_checkpoint_interval_ms = 60'000;    // log.flush.offset.checkpoint.interval.ms
  int64_t flush_start_offset_checkpoint_interval_ms = 60'000;  // log.flush.start.offset.checkpoint.interval.ms
  // Config of an existing partition found at startup (topic overrides); default_config if unset.
  std::function<log_config(const model::topic_partition&)> config_for;
};

class log_manager {
 public:
  static result<std::unique_ptr<log_manager>> open(const log_manager_config& cfg, file_system& fs,
                                                   sluice::clock& clock);
  ~log_manager();

  // New empty log in the log dir holding the fewest partitions. already_exists if present.
  result<log*> create(const model::topic_partition& tp, const log_config& cfg);
  log* get(const model::topic_partition& tp) const;
  // Renames the directory to <topic>-<partition>.<uuid>-delete (durably), destroys the log and
  // removes the directory file.delete.delay.ms later (from run_periodic_tasks).
  result<void> remove(const model::topic_partition& tp);
  std::vector<model::topic_partition> partitions() const;

  result<void> run_periodic_tasks(bool include_logs = false);
  // Writes the three offset checkpoints of every log dir now.
  result<void> checkpoint_all();
  // Flushes and closes every log, writes the checkpoints, then the clean-shutdown marker in
  // each log dir whose logs all closed cleanly. The logs stay open (but must not be used).
  result<void> shutdown();

  const log_manager_config& config() const { return _cfg; }
  // Directories named *-delete still awaiting removal.
  size_t pending_dir_deletes() const;

 private:
  log_manager(const log_manager_config& cfg, file_system& fs, sluice::clock& clock)
      : _cfg(cfg), _fs(fs), _clock(clock) {}
  result<void> load_dir(const std::string& dir);
  log_options options_for(const std::string& dir, const model::topic_partition& tp, const log_config& cfg) const;
  result<void> write_checkpoints(bool recovery, bool start, bool hw);

  struct entry {
    std::string log_dir;
    std::unique_ptr<log> l;
  };
  log_manager_config _cfg;
  file_system& _fs;
  sluice::clock& _clock;
  mutable std::mutex _mu;
  std::map<model::topic_partition, entry> _logs;
  struct dir_delete {
    int64_t due_mono_ms;
    std::string path;
  };
  std::vector<dir_delete> _dir_deletes;
  int64_t _next_recovery_checkpoint_ms = 0;
  int64_t _next_start_checkpoint_ms = 0;
};

// "<topic>-<partition>.<32 hex>-delete", the topic shortened so the name fits 255 bytes.
std::string delete_dir_name(const model::topic_partition& tp);

}  // namespace sluice::storage
