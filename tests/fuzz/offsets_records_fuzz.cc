// libFuzzer target for the __consumer_offsets record decoders (coordinator/group/offsets_format.h):
// bytes read back from the log on coordinator load, so a corrupt or foreign record must be
// rejected cleanly. The first input byte picks the decoder (key, offset commit value, group
// metadata value). Findings: a crash, a sanitizer report, a hang, or a decoded record that does
// not survive encode → decode unchanged (the encoder writes the newest version of the same fields).
// Built only with -DSLUICE_FUZZ=ON and clang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "coordinator/group/offsets_format.h"

namespace g = sluice::coordinator::group;

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
  switch (data[0] % 3) {
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
