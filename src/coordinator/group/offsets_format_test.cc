#include "coordinator/group/offsets_format.h"

#include <gtest/gtest.h>

namespace sluice::coordinator::group {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(OffsetsFormat, OffsetCommitKeyV1Bytes) {
  // docs/format/consumer-offsets.md worked example.
  auto k = encode_offset_commit_key({"g", "t", 2});
  const std::string want("\x00\x01\x00\x01g\x00\x01t\x00\x00\x00\x02", 12);
  EXPECT_EQ(k, want);
  auto d = decode_offsets_key(bytes_of(k));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->is_group);
  EXPECT_EQ(d->offset.group, "g");
  EXPECT_EQ(d->offset.topic, "t");
  EXPECT_EQ(d->offset.partition, 2);
}

TEST(OffsetsFormat, OffsetCommitValueV3Bytes) {
  offset_commit_value v;
  v.offset = 42;
  v.leader_epoch = -1;
  v.metadata = "m";
  v.commit_timestamp_ms = 1000;
  auto b = encode_offset_commit_value(v);
  const std::string want(
      "\x00\x03"                          // version 3
      "\x00\x00\x00\x00\x00\x00\x00\x2a"  // offset 42
      "\xff\xff\xff\xff"                  // leader epoch -1
      "\x00\x01m"                         // metadata
      "\x00\x00\x00\x00\x00\x00\x03\xe8",  // commit timestamp 1000
      25);
  EXPECT_EQ(b, want);
  auto d = decode_offset_commit_value(bytes_of(b));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->offset, 42);
  EXPECT_EQ(d->metadata, "m");
  EXPECT_EQ(d->commit_timestamp_ms, 1000);
}

TEST(OffsetsFormat, OffsetCommitValueV1WithExpireTimestamp) {
  const std::string v1(
      "\x00\x01"
      "\x00\x00\x00\x00\x00\x00\x00\x05"
      "\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x01"
      "\x00\x00\x00\x00\x00\x00\x00\x09",
      28);
  auto d = decode_offset_commit_value(bytes_of(v1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->offset, 5);
  EXPECT_EQ(d->leader_epoch, -1);
  EXPECT_EQ(d->expire_timestamp_ms, 9);
}

TEST(OffsetsFormat, GroupMetadataRoundTrip) {
  group_metadata_value v;
  v.protocol_type = "consumer";
  v.generation = 7;
  v.protocol = "range";
  v.leader = "m1";
  v.current_state_timestamp_ms = 123;
  member_metadata_record m;
  m.member_id = "m1";
  m.group_instance_id = "i1";
  m.client_id = "c";
  m.client_host = "/127.0.0.1";
  m.rebalance_timeout_ms = 300000;
  m.session_timeout_ms = 10000;
  m.subscription = {1, 2, 3};
  m.assignment = {4, 5};
  v.members.push_back(m);
  auto key = encode_group_metadata_key("grp");
  EXPECT_EQ(key, std::string("\x00\x02\x00\x03grp", 7));
  auto dk = decode_offsets_key(bytes_of(key));
  ASSERT_TRUE(dk);
  EXPECT_TRUE(dk->is_group);
  EXPECT_EQ(dk->group, "grp");
  auto b = encode_group_metadata_value(v);
  EXPECT_EQ(b.substr(0, 2), std::string("\x00\x03", 2));
  auto d = decode_group_metadata_value(bytes_of(b));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->generation, 7);
  EXPECT_EQ(d->protocol, "range");
  EXPECT_EQ(d->leader, "m1");
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->members[0].group_instance_id, "i1");
  EXPECT_EQ(d->members[0].rebalance_timeout_ms, 300000);
  EXPECT_EQ(d->members[0].session_timeout_ms, 10000);
  EXPECT_EQ(d->members[0].subscription, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(d->members[0].assignment, (std::vector<uint8_t>{4, 5}));
}

TEST(OffsetsFormat, RejectsTruncatedAndHugeCounts) {
  group_metadata_value v;
  v.protocol_type = "consumer";
  auto b = encode_group_metadata_value(v);
  // Member count claims 1e9 members with no bytes behind it.
  b[b.size() - 4] = '\x3b';
  EXPECT_FALSE(decode_group_metadata_value(bytes_of(b)));
  auto k = encode_offset_commit_key({"g", "t", 2});
  k.pop_back();
  EXPECT_FALSE(decode_offsets_key(bytes_of(k)));
  EXPECT_FALSE(decode_offsets_key(bytes_of(std::string("\x00\x07\x00\x00", 4))));
}

}  // namespace
}  // namespace sluice::coordinator::group
