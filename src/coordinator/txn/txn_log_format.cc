#include "coordinator/txn/txn_log_format.h"

#include <algorithm>

#include "coordinator/record_codec.h"

namespace sluice::coordinator::txn {

const char* state_name(txn_state s) {
  switch (s) {
    case txn_state::empty: return "Empty";
    case txn_state::ongoing: return "Ongoing";
    case txn_state::prepare_commit: return "PrepareCommit";
    case txn_state::prepare_abort: return "PrepareAbort";
    case txn_state::complete_commit: return "CompleteCommit";
    case txn_state::complete_abort: return "CompleteAbort";
    case txn_state::dead: return "Dead";
    case txn_state::prepare_epoch_fence: return "PrepareEpochFence";
  }
  return "Unknown";
}

std::optional<txn_state> state_from_code(int8_t code) {
  if (code < 0 || code > 7) return std::nullopt;
  return static_cast<txn_state>(code);
}

namespace {

// The tagged-field section that ends a flexible struct. `on_tag(tag, size, reader)` consumes
// known tags (must read exactly `size` bytes) and returns false for unknown ones, which are skipped.
template <typename F>
void read_tags(record_reader& r, F&& on_tag) {
  auto count = r.uvarint();
  if (!r.ok() || count > r.remaining()) return r.fail();
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    auto tag = r.uvarint();
    auto size = r.uvarint();
    if (!r.ok() || size > r.remaining()) return r.fail();
    auto before = r.remaining();
    if (!on_tag(tag, size)) {
      r.skip(size);
    } else if (r.ok() && before - r.remaining() != size) {
      r.fail();  // a known tag of the wrong size
    }
  }
}

}  // namespace

std::string encode_txn_log_key(const std::string& transactional_id) {
  record_writer o;
  o.num<int16_t>(0);
  o.str(transactional_id);
  return o.take();
}

std::string encode_txn_log_value(const txn_log_value& v) {
  record_writer o;
  o.num<int16_t>(0);
  o.num<int64_t>(v.producer_id);
  o.num<int16_t>(v.producer_epoch);
  o.num<int32_t>(v.transaction_timeout_ms);
  o.num<int8_t>(static_cast<int8_t>(v.state));
  // Kafka writes a null partition array for Empty (a transactional id with no transaction).
  if (v.state == txn_state::empty) {
    o.num<int32_t>(-1);
  } else {
    o.num<int32_t>(static_cast<int32_t>(v.partitions.size()));
    for (const auto& [topic, ids] : v.partitions) {
      o.str(topic);
      o.num<int32_t>(static_cast<int32_t>(ids.size()));
      for (auto id : ids) o.num<int32_t>(id);
    }
  }
  o.num<int64_t>(v.last_update_timestamp_ms);
  o.num<int64_t>(v.start_timestamp_ms);
  return o.take();
}

std::optional<std::string> decode_txn_log_key(std::span<const uint8_t> bytes) {
  record_reader r(bytes);
  auto version = r.num<int16_t>();
  if (!r.ok() || version != 0) return std::nullopt;
  auto id = r.str();
  if (!r.done()) return std::nullopt;
  return id;
}

std::optional<txn_log_value> decode_txn_log_value(std::span<const uint8_t> bytes) {
  record_reader r(bytes);
  auto version = r.num<int16_t>();
  if (!r.ok() || version < 0 || version > 1) return std::nullopt;
  const bool flexible = version >= 1;
  txn_log_value v;
  v.producer_id = r.num<int64_t>();
  v.producer_epoch = r.num<int16_t>();
  v.transaction_timeout_ms = r.num<int32_t>();
  auto state = state_from_code(r.num<int8_t>());
  if (!r.ok() || !state) return std::nullopt;
  v.state = *state;

  // Partition array: null (-1 / compact 0) or a count, each topic taking at least 6 bytes
  // (flexible: 3), so the count is bounded by what is left before anything is reserved.
  int64_t topics = 0;
  if (flexible) {
    topics = static_cast<int64_t>(r.uvarint()) - 1;
  } else {
    topics = r.num<int32_t>();
  }
  if (!r.ok() || topics < -1) return std::nullopt;
  if (topics > 0 && (static_cast<size_t>(topics) > max_txn_topics || static_cast<size_t>(topics) > r.remaining() / 3))
    return std::nullopt;
  for (int64_t t = 0; t < topics && r.ok(); ++t) {
    std::string topic = flexible ? r.compact_str() : r.str();
    int64_t n = flexible ? static_cast<int64_t>(r.uvarint()) - 1 : r.num<int32_t>();
    if (!r.ok() || n < 0 || static_cast<size_t>(n) > max_txn_partitions_per_topic ||
        static_cast<size_t>(n) > r.remaining() / 4)
      return std::nullopt;
    auto& ids = v.partitions[topic];
    for (int64_t i = 0; i < n; ++i) ids.push_back(r.num<int32_t>());
    if (flexible) read_tags(r, [](uint32_t, uint32_t) { return false; });
  }
  for (auto& [_, ids] : v.partitions) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  v.last_update_timestamp_ms = r.num<int64_t>();
  v.start_timestamp_ms = r.num<int64_t>();
  if (flexible) {
    read_tags(r, [&](uint32_t tag, uint32_t size) {
      switch (tag) {
        case 0: if (size != 8) { r.fail(); return true; } v.previous_producer_id = r.num<int64_t>(); return true;
        case 1: if (size != 8) { r.fail(); return true; } v.next_producer_id = r.num<int64_t>(); return true;
        case 2: if (size != 2) { r.fail(); return true; } v.client_transaction_version = r.num<int16_t>(); return true;
        default: return false;
      }
    });
  }
  if (!r.done()) return std::nullopt;
  return v;
}

}  // namespace sluice::coordinator::txn
