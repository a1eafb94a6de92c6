#pragma once
// Validation of one produced record batch (Produce v3+): exactly one RecordBatch v2, within
// max.message.bytes, CRC-32C intact, records well framed, no control batch, a supported codec,
// timestamps within message.timestamp.difference.max.ms. Pure function: no I/O, no allocation
// for uncompressed batches.
#include <cstdint>
#include <span>

#include "protocol/error_code.h"
#include "storage/log_config.h"

namespace sluice::server {

protocol::error_code validate_produce_batch(std::span<const uint8_t> records, const storage::log_config& cfg,
                                            int16_t produce_version, int64_t now_ms);

}  // namespace sluice::server
