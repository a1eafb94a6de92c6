// libFuzzer target for the coordinators' record decoders: __consumer_offsets
// (coordinator/group/offsets_format.h) and __transaction_state (coordinator/txn/txn_log_format.h).
// Bytes read back from the log on coordinator load, so a corrupt or foreign record must be
// rejected cleanly. The first input byte picks the decoder (offsets key, offset commit value,
// group metadata value, transaction key, transaction value). Findings: a crash, a sanitizer report, a hang, or a decoded record that does
// not survive encode → decode unchanged (the encoder writes the newest version of the same fields).
// Built only with -DSLUICE_FUZZ=ON and clang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "coordinator/group/offsets_format.h"
#include "coordinator/txn/txn_log_format.h"

namespace g = sluice::coordinator::group;
namespace t = sluice::coordinator::txn;

namespace {
std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool same(const g::member_metadata_record& a, const g::member_metadata_record& b) {
  return a.member_id == b.member_id && a.group_instance_id == b.group_instance_id && a.client_id == b.client_id &&
         a.client_host == b.client_host && a.rebalance_timeout_ms == b.rebalance_timeout_ms &&
         a.session_timeout_ms == b.session_timeout_ms && a.subscription == b.subscription &&
         a.assignment == b.assignment;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto k = g::decode_offsets_key(in);
      if (!k) return 0;
      auto again = g::decode_offsets_key(bytes_of(k->is_group ? g::encode_group_metadata_key(k->group)
                                                              : g::encode_offset_commit_key(k->offset)));
      if (!again || again->is_group != k->is_group || again->group != k->group) abort();
      if (!k->is_group && (again->offset.group != k->offset.group || again->offset.topic != k->offset.topic ||
                           again->offset.partition != k->offset.partition))
        abort();
      return 0;
    }
    case 1: {
      auto v = g::decode_offset_commit_value(in);
      if (!v) return 0;
      auto again = g::decode_offset_commit_value(bytes_of(g::encode_offset_commit_value(*v)));
      if (!again || again->offset != v->offset || again->leader_epoch != v->leader_epoch ||
          again->metadata != v->metadata || again->commit_timestamp_ms != v->commit_timestamp_ms)
        abort();
      return 0;
    }
    case 3: {
      auto k = t::decode_txn_log_key(in);
      if (!k) return 0;
      auto again = t::decode_txn_log_key(bytes_of(t::encode_txn_log_key(*k)));
      if (again != k) abort();
      return 0;
    }
    case 4: {
      auto v = t::decode_txn_log_value(in);
      if (!v) return 0;
      for (const auto& [topic, _] : v->partitions)
        if (topic.size() > INT16_MAX) return 0;  // v1 allows longer; the encoder writes v0
      auto again = t::decode_txn_log_value(bytes_of(t::encode_txn_log_value(*v)));
      // v0 stores no partitions for Empty, and not the v1-only tags.
      if (!again || again->producer_id != v->producer_id || again->producer_epoch != v->producer_epoch ||
          again->transaction_timeout_ms != v->transaction_timeout_ms || again->state != v->state ||
          again->last_update_timestamp_ms != v->last_update_timestamp_ms ||
          again->start_timestamp_ms != v->start_timestamp_ms ||
          (v->state != t::txn_state::empty && again->partitions != v->partitions))
        abort();
      return 0;
    }
    default: {
      auto v = g::decode_group_metadata_value(in);
      if (!v) return 0;
      auto again = g::decode_group_metadata_value(bytes_of(g::encode_group_metadata_value(*v)));
      if (!again || again->protocol_type != v->protocol_type || again->generation != v->generation ||
          again->protocol != v->protocol || again->leader != v->leader ||
          again->members.size() != v->members.size())
        abort();
      for (size_t i = 0; i < v->members.size(); ++i)
        if (!same(again->members[i], v->members[i])) abort();
      return 0;
    }
  }
}
