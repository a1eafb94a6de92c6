#pragma once
// Validation of one produced record batch (Produce v3+): exactly one RecordBatch v2, within
// max.message.bytes, CRC-32C intact, records well framed, no control batch, a producer id and
// epoch when transactional, a sequence when it has a producer id, a supported codec,
// timestamps within message.timestamp.difference.max.ms. Pure function: no I/O, no allocation
// for uncompressed batches. Producer id/epoch/sequence rules need the partition's producer
// state and are applied by storage::log::append.
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "model/record_batch.h"
#include "protocol/error_code.h"
#include "storage/log_config.h"

namespace sluice::server {

// Decompressed records of one batch may not exceed this (decompression bombs). Kafka has no
// explicit bound; 128 MiB is far above any batch a client builds under max.message.bytes.
inline constexpr size_t max_decompressed_batch_bytes = 128u << 20;

protocol::error_code validate_produce_batch(std::span<const uint8_t> records, const storage::log_config& cfg,
                                            int16_t produce_version, int64_t now_ms);

// Kafka's error for a failed log append (storage::errc, OS errors): Produce and markers.
protocol::error_code storage_error_to_kafka(std::error_code ec);

// The codec a topic's compression.type asks for, or nullopt for "producer" (keep the batch as
// it came).
std::optional<model::compression> target_compression(const storage::log_config& cfg);

// Level for `codec` from the topic's compression.<codec>.level settings (-1 = codec default).
int compression_level(const storage::log_config& cfg, model::compression codec);

}  // namespace sluice::server
