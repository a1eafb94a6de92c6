#pragma once
// One partition of an internal topic (__consumer_offsets, __transaction_state), as a coordinator
// needs it: append its records, read them back on load. Implemented by the server on top of the
// partition's log; used only on the partition's shard.
#include <functional>
#include <vector>

#include "base/result.h"
#include "model/record_batch_builder.h"

namespace sluice::coordinator {

class internal_partition {
 public:
  virtual ~internal_partition() = default;
  // Appends the records as one batch; returns once it is written as a Produce with acks=all
  // would be.
  virtual result<void> append(const std::vector<model::record_data>& records) = 0;
  // Calls fn for every record from the log start to the end, in offset order.
  virtual result<void> read_all(const std::function<void(const model::decoded_record&)>& fn) = 0;
};

}  // namespace sluice::coordinator
