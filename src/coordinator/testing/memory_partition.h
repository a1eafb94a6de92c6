#pragma once
// Test double: an internal-topic partition in memory. The records live in a shared
// memory_log, so a second coordinator can reload what the first wrote; `fail` makes appends fail.
#include <memory>
#include <system_error>
#include <vector>

#include "coordinator/internal_partition.h"

namespace sluice::coordinator::testing {

struct memory_log {
  std::vector<model::decoded_record> records;
  bool fail = false;
};

class memory_partition final : public internal_partition {
 public:
  explicit memory_partition(std::shared_ptr<memory_log> l) : _l(std::move(l)) {}
  result<void> append(const std::vector<model::record_data>& recs) override {
    if (_l->fail) return std::make_error_code(std::errc::io_error);
    for (const auto& r : recs) {
      model::decoded_record d;
      d.offset = static_cast<int64_t>(_l->records.size());
      d.key = r.key;
      d.value = r.value;
      d.timestamp_ms = r.timestamp_ms;
      _l->records.push_back(d);
    }
    return ok();
  }
  result<void> read_all(const std::function<void(const model::decoded_record&)>& fn) override {
    for (const auto& r : _l->records) fn(r);
    return ok();
  }

 private:
  std::shared_ptr<memory_log> _l;
};

}  // namespace sluice::coordinator::testing
