#pragma once
// Test double: an internal-topic partition in memory. The records live in a shared
// memory_log, so a second coordinator can reload what the first wrote; `fail` makes appends fail
// (with `fail_with`); `hold` makes writes wait for replication until the test calls release().
#include <functional>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "coordinator/internal_partition.h"

namespace sluice::coordinator::testing {

struct memory_log {
  std::vector<model::decoded_record> records;
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
};

class memory_partition final : public internal_partition {
 public:
  explicit memory_partition(std::shared_ptr<memory_log> l) : _l(std::move(l)) {}
  // Contract of internal_partition: waits of a destroyed partition are never completed.
  ~memory_partition() override { _l->held.clear(); }

  result<int64_t> append(const std::vector<model::record_data>& recs) override {
    if (_l->fail) return make_error_code(_l->fail_with);
    for (const auto& r : recs) {
      model::decoded_record d;
      d.offset = static_cast<int64_t>(_l->records.size());
      d.key = r.key;
      d.value = r.value;
      d.timestamp_ms = r.timestamp_ms;
      _l->records.push_back(d);
    }
    return static_cast<int64_t>(_l->records.size());
  }
  void wait_replicated(int64_t end_offset, std::function<void(std::error_code)> done) override {
    if (_l->hold) {
      _l->held.emplace_back(end_offset, std::move(done));
      return;
    }
    done({});
  }
  result<void> read_all(const std::function<void(const model::decoded_record&)>& fn) override {
    for (const auto& r : _l->records) fn(r);
    return ok();
  }

 private:
  std::shared_ptr<memory_log> _l;
};

}  // namespace sluice::coordinator::testing
