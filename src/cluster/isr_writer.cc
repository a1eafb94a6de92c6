#include "cluster/isr_writer.h"

#include "base/logging.h"
#include "cluster/partition_state.h"

namespace sluice::cluster {

isr_writer::isr_writer(metadata_store& store) : _store(store), _thread([this] { run(); }) {}

isr_writer::~isr_writer() {
  {
    std::lock_guard g(_mu);
    _stopping = true;
    _cv.notify_all();
  }
  _thread.join();
  for (auto& r : _queue) r.done(false, -1);
}

void isr_writer::submit(std::string topic, int32_t partition, int32_t leader, int32_t leader_epoch,
                        std::vector<int32_t> new_isr, int32_t expected_partition_epoch, done_fn done) {
  std::lock_guard g(_mu);
  _queue.push_back(request{std::move(topic), partition, leader, leader_epoch, std::move(new_isr),
                           expected_partition_epoch, std::move(done)});
  _cv.notify_all();
}

void isr_writer::run() {
  std::unique_lock lock(_mu);
  while (true) {
    _cv.wait(lock, [&] { return _stopping || !_queue.empty(); });
    if (_stopping) return;
    request r = std::move(_queue.front());
    _queue.pop_front();
    lock.unlock();
    auto v = update_isr(_store, r.topic, r.partition, r.leader, r.leader_epoch, r.new_isr, r.expected_partition_epoch);
    if (!v)
      log::get("cluster")->info("{}-{}: ISR change by leader {} (epoch {}) not written: {}", r.topic, r.partition,
                                r.leader, r.leader_epoch, v.error().message());
    r.done(v.has_value(), v ? *v : -1);
    lock.lock();
  }
}

}  // namespace sluice::cluster
