#pragma once
// Test double: an internal-topic partition in memory. The records live in a shared
// memory_log, so a second coordinator can reload what the first wrote; `fail` makes appends fail
// (with `fail_with`); `hold` makes writes wait for replication until the test calls release().
// A record's offset is its index in `records`; records without an entry in `batches` belong to a
// plain (non-transactional) batch, so tests may push records directly.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "coordinator/internal_partition.h"

namespace sluice::coordinator::testing {

struct memory_log {
  std::vector<model::decoded_record> records;
  std::map<int64_t, batch_info> batches;  // by record offset, for transactional records and markers
  std::map<int64_t, int16_t> producer_epochs;  // newest epoch written per producer id
  bool fail = false;
  write_errc fail_with = write_errc::storage_error;
  // While set, wait_replicated parks the waits (a follower that has not fetched yet).
  bool hold = false;
  std::vector<std::pair<int64_t, std::function<void(std::error_code)>>> held;

  // Completes the parked waits, oldest first: `e` zero = replicated.
  void release(std::error_code e = {}) {
    auto waits = std::exchange(held, {});
    for (auto& [_, done] : waits) done(e);
  }

  // Appends a COMMIT or ABORT control batch of the producer (what WriteTxnMarkers writes); returns
  // its offset.
  int64_t write_marker(int64_t producer_id, int16_t producer_epoch, bool commit) {
    model::decoded_record d;
    d.offset = static_cast<int64_t>(records.size());
    // Kafka's control record key: version int16 0, type int16 (0 abort, 1 commit).
    d.key = std::string("\0\0\0", 3) + (commit ? '\1' : '\0');
    d.value = std::string(6, '\0');
    records.push_back(d);
    batch_info b;
    b.base_offset = d.offset;
    b.producer_id = producer_id;
    b.producer_epoch = producer_epoch;
    b.transactional = true;
    b.control = commit ? control_type::commit : control_type::abort;
    batches[d.offset] = b;
    if (producer_epoch > producer_epochs[producer_id]) producer_epochs[producer_id] = producer_epoch;
    return d.offset;
  }

  int64_t add(const std::vector<model::record_data>& recs, const batch_info* txn) {
    const auto base = static_cast<int64_t>(records.size());
    for (const auto& r : recs) {
      model::decoded_record d;
      d.offset = static_cast<int64_t>(records.size());
      d.key = r.key;
      d.value = r.value;
      d.timestamp_ms = r.timestamp_ms;
      records.push_back(d);
      if (txn) {
        batches[d.offset] = *txn;
        batches[d.offset].base_offset = base;
      }
    }
    return static_cast<int64_t>(records.size());
  }
};

class memory_partition final : public internal_partition {
 public:
  explicit memory_partition(std::shared_ptr<memory_log> l) : _l(std::move(l)) {}
  // Contract of internal_partition: waits of a destroyed partition are never completed.
  ~memory_partition() override { _l->held.clear(); }

  result<int64_t> append(const std::vector<model::record_data>& recs) override {
    if (_l->fail) return make_error_code(_l->fail_with);
    return _l->add(recs, nullptr);
  }
  result<int64_t> append_transactional(const std::vector<model::record_data>& recs, int64_t producer_id,
                                       int16_t producer_epoch) override {
    if (_l->fail) return make_error_code(_l->fail_with);
    auto known = _l->producer_epochs.find(producer_id);
    if (known != _l->producer_epochs.end() && known->second > producer_epoch)
      return make_error_code(write_errc::invalid_producer_epoch);
    _l->producer_epochs[producer_id] = producer_epoch;
    batch_info b;
    b.producer_id = producer_id;
    b.producer_epoch = producer_epoch;
    b.transactional = true;
    return _l->add(recs, &b);
  }
  void wait_replicated(int64_t end_offset, std::function<void(std::error_code)> done) override {
    if (_l->hold) {
      _l->held.emplace_back(end_offset, std::move(done));
      return;
    }
    done({});
  }
  result<void> read_all(const read_fn& fn) override {
    for (const auto& r : _l->records) {
      auto it = _l->batches.find(r.offset);
      if (it != _l->batches.end()) {
        fn(it->second, r);
      } else {
        batch_info plain;
        plain.base_offset = r.offset;
        fn(plain, r);
      }
    }
    return ok();
  }

 private:
  std::shared_ptr<memory_log> _l;
};

}  // namespace sluice::coordinator::testing
