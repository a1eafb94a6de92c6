#pragma once
// controller_duties: Kafka's ZooKeeper-mode controller, running on every cluster broker and
// active on the one that holds /controller.
//
// Election: create the ephemeral /controller {"version":1,"brokerid":id,"timestamp":"<ms>"};
// the winner increments /controller_epoch (compare-and-set) and from then on fences every write
// with multi(check /controller_epoch version, ...). A deposed controller (its session expired
// and another broker won) fails that check and stops acting.
//
// Duties are one reconcile pass over the latest metadata_image (from the broker's
// metadata_watcher, which watches everything involved), run on this object's own thread
// (never a shard thread) whenever a new image arrives:
//   - partitions without a state node get one: leader = first live replica, ISR = live replicas;
//   - a leader that is not live: new leader = first replica (replica order) that is live and in
//     the ISR (not one in controlled shutdown if another exists); ISR minus dead brokers;
//     leader_epoch+1. No live ISR member: leader -1 and the ISR keeps its last member
//     (unclean.leader.election.enable=true: the first live replica, ISR = {it});
//   - a live leader with dead followers in the ISR: they are removed, leader_epoch+1;
//   - leader -1 and an ISR member is back: it leads, leader_epoch+1;
//   - brokers in controlled shutdown (/sluice/controlled_shutdown/<id>): leadership moves to
//     another live ISR member and they leave ISRs they do not lead (unless they are the last);
//   - preferred leader rebalance every leader.imbalance.check.interval.ms when a broker's share
//     of partitions it prefers but does not lead exceeds leader.imbalance.per.broker.percentage.
// All state writes are compare-and-set on the state node version (partition_epoch), so a
// concurrent ISR change by a leader makes the controller's write fail and re-plan on the next image.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cluster/metadata_image.h"
#include "cluster/metadata_store.h"
#include "cluster/partition_state.h"

namespace sluice::cluster {

class metadata_watcher;

inline constexpr const char* controlled_shutdown_root = "/sluice/controlled_shutdown";

struct controller_settings {
  bool unclean_leader_election = false;            // unclean.leader.election.enable
  bool auto_leader_rebalance = true;               // auto.leader.rebalance.enable
  int64_t leader_imbalance_check_interval_ms = 300'000;  // leader.imbalance.check.interval.seconds
  int32_t leader_imbalance_per_broker_percentage = 10;   // leader.imbalance.per.broker.percentage
};

// What the controller would write for one partition given the image; nullopt = nothing to do.
// Pure (unit-tested); `preferred` also moves leadership to the first replica when eligible.
std::optional<partition_state> plan_partition(const metadata_image& img, const partition_metadata& pm,
                                              const controller_settings& s, bool preferred);

// The watcher must outlive this object (stop() unsubscribes from it).
class controller_duties {
 public:
  controller_duties(metadata_store& store, metadata_watcher& watcher, int32_t self_id, controller_settings settings);
  ~controller_duties();
  controller_duties(const controller_duties&) = delete;
  controller_duties& operator=(const controller_duties&) = delete;

  void start();
  void stop();  // resigns (removes /controller if this broker holds it)
  bool is_active() const;
  int32_t epoch() const;  // this broker's controller epoch while active, else -1
  // After a ZooKeeper session was replaced: the old /controller is gone; run the election again.
  void session_replaced();

 private:
  void run();
  bool try_elect();                              // on the duties thread
  void reconcile(const metadata_image& img, bool rebalance);  // on the duties thread
  bool write_state(const std::string& topic, const partition_metadata& pm, const partition_state& st);
  void check_still_controller();
  bool holds_controller_node();

  metadata_store& _store;
  metadata_watcher& _watcher;
  const int32_t _self_id;
  const controller_settings _settings;

  mutable std::mutex _mu;
  std::condition_variable _cv;
  bool _stopping = false;
  bool _wake = false;
  bool _active = false;
  std::optional<int64_t> _subscription;  // to the watcher's images, set by start()
  int32_t _epoch = -1;
  int32_t _epoch_version = -1;  // /controller_epoch node version after our increment
  std::thread _thread;
};

// The stopping broker's half of controlled shutdown: announces it (ephemeral
// /sluice/controlled_shutdown/<id>) and waits, up to timeout_ms, until the watcher's image shows
// this broker leads no partition that has another live ISR member. Returns whether that state
// was reached. Blocking; call from the broker's shutdown path (not a shard thread).
bool controlled_shutdown(metadata_store& store, metadata_watcher& watcher, int32_t self_id, int64_t timeout_ms);

}  // namespace sluice::cluster
