#pragma once
// Record keys and values of __consumer_offsets, in Kafka's formats (docs/format/consumer-offsets.md)
// so that tools reading the topic understand them. Big-endian; strings are int16 length + UTF-8,
// nullable strings use length -1, bytes are int32 length + bytes, arrays int32 count.
//
// Written: offset commit key v1 + value v3, group metadata key v2 + value v3 (what Kafka 3.x
// writes). Read: offset commit values v0-v3, group metadata values v0-v3. A null value is a
// tombstone (offset deleted / group deleted).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sluice::coordinator::group {

struct offset_commit_key {
  std::string group;
  std::string topic;
  int32_t partition = 0;
};

struct offset_commit_value {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
  int64_t expire_timestamp_ms = -1;  // only in v1 values (read, never written)
};

struct member_metadata_record {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::vector<uint8_t> subscription;  // the member's metadata for the group's selected protocol
  std::vector<uint8_t> assignment;
};

struct group_metadata_value {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp_ms = -1;
  std::vector<member_metadata_record> members;
};

// A decoded key: either an offset commit key (versions 0, 1) or a group metadata key (version 2).
struct offsets_key {
  bool is_group = false;
  offset_commit_key offset;  // when !is_group
  std::string group;         // the group id, both kinds
};

std::string encode_offset_commit_key(const offset_commit_key& k);
std::string encode_offset_commit_value(const offset_commit_value& v);
std::string encode_group_metadata_key(const std::string& group);
std::string encode_group_metadata_value(const group_metadata_value& v);

// nullopt on malformed input or an unknown version (such records are skipped on load, logged).
std::optional<offsets_key> decode_offsets_key(std::span<const uint8_t> bytes);
std::optional<offset_commit_value> decode_offset_commit_value(std::span<const uint8_t> bytes);
std::optional<group_metadata_value> decode_group_metadata_value(std::span<const uint8_t> bytes);

}  // namespace sluice::coordinator::group
