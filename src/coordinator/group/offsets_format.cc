#include "coordinator/group/offsets_format.h"

#include "coordinator/record_codec.h"

namespace sluice::coordinator::group {

std::string encode_offset_commit_key(const offset_commit_key& k) {
  record_writer o;
  o.num<int16_t>(1);
  o.str(k.group);
  o.str(k.topic);
  o.num<int32_t>(k.partition);
  return o.take();
}

std::string encode_offset_commit_value(const offset_commit_value& v) {
  record_writer o;
  o.num<int16_t>(3);
  o.num<int64_t>(v.offset);
  o.num<int32_t>(v.leader_epoch);
  o.str(v.metadata);
  o.num<int64_t>(v.commit_timestamp_ms);
  return o.take();
}

std::string encode_group_metadata_key(const std::string& group) {
  record_writer o;
  o.num<int16_t>(2);
  o.str(group);
  return o.take();
}

std::string encode_group_metadata_value(const group_metadata_value& v) {
  record_writer o;
  o.num<int16_t>(3);
  o.str(v.protocol_type);
  o.num<int32_t>(v.generation);
  o.nullable_str(v.protocol);
  o.nullable_str(v.leader);
  o.num<int64_t>(v.current_state_timestamp_ms);
  o.num<int32_t>(static_cast<int32_t>(v.members.size()));
  for (const auto& m : v.members) {
    o.str(m.member_id);
    o.nullable_str(m.group_instance_id);
    o.str(m.client_id);
    o.str(m.client_host);
    o.num<int32_t>(m.rebalance_timeout_ms);
    o.num<int32_t>(m.session_timeout_ms);
    o.bytes(m.subscription);
    o.bytes(m.assignment);
  }
  return o.take();
}

std::optional<offsets_key> decode_offsets_key(std::span<const uint8_t> bytes) {
  record_reader r(bytes);
  auto version = r.num<int16_t>();
  offsets_key k;
  if (version == 0 || version == 1) {
    k.offset.group = r.str();
    k.offset.topic = r.str();
    k.offset.partition = r.num<int32_t>();
    k.group = k.offset.group;
  } else if (version == 2) {
    k.is_group = true;
    k.group = r.str();
  } else {
    return std::nullopt;
  }
  if (!r.done()) return std::nullopt;
  return k;
}

std::optional<offset_commit_value> decode_offset_commit_value(std::span<const uint8_t> bytes) {
  record_reader r(bytes);
  auto version = r.num<int16_t>();
  if (version < 0 || version > 3) return std::nullopt;
  offset_commit_value v;
  v.offset = r.num<int64_t>();
  if (version >= 3) v.leader_epoch = r.num<int32_t>();
  v.metadata = r.str();
  v.commit_timestamp_ms = r.num<int64_t>();
  if (version == 1) v.expire_timestamp_ms = r.num<int64_t>();
  // Later minor additions (tagged fields of newer versions) are not ours to read; v0-3 end here.
  if (!r.done()) return std::nullopt;
  return v;
}

std::optional<group_metadata_value> decode_group_metadata_value(std::span<const uint8_t> bytes) {
  record_reader r(bytes);
  auto version = r.num<int16_t>();
  if (version < 0 || version > 3) return std::nullopt;
  group_metadata_value v;
  v.protocol_type = r.str();
  v.generation = r.num<int32_t>();
  v.protocol = r.nullable_str();
  v.leader = r.nullable_str();
  if (version >= 2) v.current_state_timestamp_ms = r.num<int64_t>();
  auto n = r.num<int32_t>();
  // Each member takes at least 18 bytes: bound the count by what is left before reserving.
  if (!r.ok() || n < 0 || static_cast<size_t>(n) > r.remaining() / 18) return std::nullopt;
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    member_metadata_record m;
    m.member_id = r.str();
    if (version >= 3) m.group_instance_id = r.nullable_str();
    m.client_id = r.str();
    m.client_host = r.str();
    m.rebalance_timeout_ms = r.num<int32_t>();
    if (version == 0) {
      m.session_timeout_ms = m.rebalance_timeout_ms;
      m.rebalance_timeout_ms = m.session_timeout_ms;
    } else {
      m.session_timeout_ms = r.num<int32_t>();
    }
    m.subscription = r.bytes();
    m.assignment = r.bytes();
    v.members.push_back(std::move(m));
  }
  if (!r.done()) return std::nullopt;
  return v;
}

}  // namespace sluice::coordinator::group
