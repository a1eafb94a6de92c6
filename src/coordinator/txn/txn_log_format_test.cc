#include "coordinator/txn/txn_log_format.h"

#include <gtest/gtest.h>

namespace sluice::coordinator::txn {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(TxnLogFormat, KeyV0Bytes) {
  auto k = encode_txn_log_key("tx");
  EXPECT_EQ(k, std::string("\x00\x00\x00\x02tx", 6));
  auto d = decode_txn_log_key(bytes_of(k));
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, "tx");
  EXPECT_FALSE(decode_txn_log_key(bytes_of(std::string("\x00\x01\x00\x02tx", 6))));  // unknown version
  EXPECT_FALSE(decode_txn_log_key(bytes_of(std::string("\x00\x00\x00\x03tx", 6))));  // truncated
  EXPECT_FALSE(decode_txn_log_key(bytes_of(std::string("\x00\x00\x00\x01tx", 6))));  // trailing byte
}

// docs/format/transaction-state.md worked example: an Ongoing transaction on t-0 and t-3.
const std::string ongoing_v0(
    "\x00\x00"                          // version 0
    "\x00\x00\x00\x00\x00\x00\x03\xe8"  // producer id 1000
    "\x00\x05"                          // epoch 5
    "\x00\x00\xea\x60"                  // timeout 60000
    "\x01"                              // Ongoing
    "\x00\x00\x00\x01"                  // 1 topic
    "\x00\x01t"                         // "t"
    "\x00\x00\x00\x02"                  // 2 partitions
    "\x00\x00\x00\x00"                  // 0
    "\x00\x00\x00\x03"                  // 3
    "\x00\x00\x00\x00\x00\x00\x07\xd0"  // last update 2000
    "\x00\x00\x00\x00\x00\x00\x03\xe8",  // start 1000
    52);

TEST(TxnLogFormat, ValueV0Bytes) {
  txn_log_value v;
  v.producer_id = 1000;
  v.producer_epoch = 5;
  v.transaction_timeout_ms = 60000;
  v.state = txn_state::ongoing;
  v.partitions["t"] = {0, 3};
  v.last_update_timestamp_ms = 2000;
  v.start_timestamp_ms = 1000;
  EXPECT_EQ(encode_txn_log_value(v), ongoing_v0);
  auto d = decode_txn_log_value(bytes_of(ongoing_v0));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->producer_id, 1000);
  EXPECT_EQ(d->producer_epoch, 5);
  EXPECT_EQ(d->transaction_timeout_ms, 60000);
  EXPECT_EQ(d->state, txn_state::ongoing);
  EXPECT_EQ(d->partitions, (std::map<std::string, std::vector<int32_t>>{{"t", {0, 3}}}));
  EXPECT_EQ(d->last_update_timestamp_ms, 2000);
  EXPECT_EQ(d->start_timestamp_ms, 1000);
  EXPECT_EQ(d->previous_producer_id, -1);
}

TEST(TxnLogFormat, EmptyStateWritesNullPartitions) {
  txn_log_value v;
  v.producer_id = 7;
  v.producer_epoch = 0;
  v.transaction_timeout_ms = 100;
  v.state = txn_state::empty;
  v.last_update_timestamp_ms = 1;
  v.start_timestamp_ms = -1;
  const std::string want(
      "\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x07"
      "\x00\x00"
      "\x00\x00\x00\x64"
      "\x00"
      "\xff\xff\xff\xff"
      "\x00\x00\x00\x00\x00\x00\x00\x01"
      "\xff\xff\xff\xff\xff\xff\xff\xff",
      37);
  EXPECT_EQ(encode_txn_log_value(v), want);
  auto d = decode_txn_log_value(bytes_of(want));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, txn_state::empty);
  EXPECT_TRUE(d->partitions.empty());
  EXPECT_EQ(d->start_timestamp_ms, -1);
}

TEST(TxnLogFormat, ValueV1FlexibleWithTags) {
  // Built by hand from TransactionLogValue v1: compact array/strings, per-struct tag buffers,
  // top-level tags 0 (PreviousProducerId), 1 (NextProducerId), 2 (ClientTransactionVersion) and
  // an unknown tag 9 that must be skipped.
  const std::string v1(
      "\x00\x01"                          // version 1
      "\x00\x00\x00\x00\x00\x00\x00\x2a"  // producer id 42
      "\x00\x01"                          // epoch 1
      "\x00\x00\x03\xe8"                  // timeout 1000
      "\x02"                              // PrepareCommit
      "\x02"                              // compact array: 1 topic
      "\x03" "ab"                         // compact string "ab"
      "\x03"                              // compact array: 2 ids
      "\x00\x00\x00\x05"
      "\x00\x00\x00\x01"
      "\x00"                              // topic struct: no tags
      "\x00\x00\x00\x00\x00\x00\x00\x09"  // last update 9
      "\x00\x00\x00\x00\x00\x00\x00\x08"  // start 8
      "\x04"                              // 4 tagged fields
      "\x00\x08\x00\x00\x00\x00\x00\x00\x00\x29"  // tag 0: previous producer id 41
      "\x01\x08\x00\x00\x00\x00\x00\x00\x00\x2b"  // tag 1: next producer id 43
      "\x02\x02\x00\x02"                          // tag 2: client transaction version 2
      "\x09\x01\x7f",                             // tag 9: unknown, 1 byte
      75);
  auto d = decode_txn_log_value(bytes_of(v1));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->producer_id, 42);
  EXPECT_EQ(d->producer_epoch, 1);
  EXPECT_EQ(d->transaction_timeout_ms, 1000);
  EXPECT_EQ(d->state, txn_state::prepare_commit);
  EXPECT_EQ(d->partitions, (std::map<std::string, std::vector<int32_t>>{{"ab", {1, 5}}}));
  EXPECT_EQ(d->last_update_timestamp_ms, 9);
  EXPECT_EQ(d->start_timestamp_ms, 8);
  EXPECT_EQ(d->previous_producer_id, 41);
  EXPECT_EQ(d->next_producer_id, 43);
  EXPECT_EQ(d->client_transaction_version, 2);

  auto bad_tag = v1;
  bad_tag[bad_tag.size() - 2] = '\x05';  // unknown tag claims 5 bytes, only 1 left
  EXPECT_FALSE(decode_txn_log_value(bytes_of(bad_tag)));
}

TEST(TxnLogFormat, RejectsMalformedValues) {
  for (size_t n = 0; n < ongoing_v0.size(); ++n)
    EXPECT_FALSE(decode_txn_log_value(bytes_of(ongoing_v0.substr(0, n)))) << "truncated at " << n;
  auto huge = ongoing_v0;
  huge[17] = '\x3b';  // topic count ~1e9 with no bytes behind it
  EXPECT_FALSE(decode_txn_log_value(bytes_of(huge)));
  auto bad_state = ongoing_v0;
  bad_state[16] = '\x08';
  EXPECT_FALSE(decode_txn_log_value(bytes_of(bad_state)));
  auto bad_version = ongoing_v0;
  bad_version[1] = '\x02';
  EXPECT_FALSE(decode_txn_log_value(bytes_of(bad_version)));
  auto huge_ids = ongoing_v0;
  huge_ids[24] = '\x7f';  // partition id count
  EXPECT_FALSE(decode_txn_log_value(bytes_of(huge_ids)));
  EXPECT_FALSE(decode_txn_log_value(bytes_of(ongoing_v0 + "x")));
}

TEST(TxnLogFormat, EveryByteFlipOfAValueIsDecodedSafely) {
  // Each byte set to a few extreme values: decoding must fail or give a bounded result, never
  // read past the end (ASan/UBSan builds catch that) or allocate from a huge count.
  txn_log_value v;
  v.producer_id = 1;
  v.producer_epoch = 2;
  v.transaction_timeout_ms = 3;
  v.state = txn_state::ongoing;
  v.partitions["abc"] = {1, 2, 3};
  v.partitions["d"] = {0};
  const auto good = encode_txn_log_value(v);
  for (size_t i = 0; i < good.size(); ++i) {
    for (char c : {'\x00', '\x01', '\x7f', '\x80', '\xff'}) {
      auto b = good;
      b[i] = c;
      auto d = decode_txn_log_value(bytes_of(b));
      if (!d) continue;
      size_t ids = 0;
      for (const auto& [_, p] : d->partitions) ids += p.size();
      EXPECT_LE(ids, good.size() / 4) << "byte " << i;
    }
  }
}

TEST(TxnLogFormat, StateNamesAndCodes) {
  EXPECT_STREQ(state_name(txn_state::prepare_epoch_fence), "PrepareEpochFence");
  EXPECT_STREQ(state_name(txn_state::complete_abort), "CompleteAbort");
  EXPECT_EQ(static_cast<int>(txn_state::dead), 6);
  EXPECT_FALSE(state_from_code(-1));
  EXPECT_FALSE(state_from_code(8));
  EXPECT_EQ(state_from_code(3), txn_state::prepare_abort);
}

}  // namespace
}  // namespace sluice::coordinator::txn
