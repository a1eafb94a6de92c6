#pragma once
// Builds uncompressed RecordBatch v2 bytes. Used by tests, tools and the broker's own writers
// (control markers, internal topics); the produce hot path never builds batches.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::model {

struct record_header {
  std::string key;
  std::optional<std::string> value;
};

struct record_data {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<record_header> headers;
  int64_t timestamp_ms = 0;
};

struct batch_options {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int16_t attributes = 0;  // compression bits must stay 0: this builder does not compress
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

std::vector<uint8_t> build_batch(const std::vector<record_data>& records, const batch_options& opts = {});

// Decoded view of one record, for tests and tools (allocates; not for the hot path).
struct decoded_record {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<record_header> headers;
};
// Decodes the records of an uncompressed batch; empty optional on malformed input.
std::optional<std::vector<decoded_record>> decode_records(const std::vector<uint8_t>& batch);
std::optional<std::vector<decoded_record>> decode_records(const uint8_t* batch, size_t size);

}  // namespace sluice::model
