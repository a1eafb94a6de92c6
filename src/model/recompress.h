#pragma once
// Produce-path helpers over one complete RecordBatch v2 (record_batch.h, docs/format/log.md)
// whose records section may be compressed (compression.h): validate what a compressed batch
// really contains, and rewrite a batch with another codec (topic compression.type).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "model/compression.h"
#include "model/record_batch.h"

namespace sluice::model {

// REQUIRES for both: `batch` is exactly one batch that passed validate_batch (length, magic,
// CRC, count vs. offset delta). Errors: compression_errc from the codec (output_too_large when
// the records section decompresses to more than max_records_bytes), batch_errc::bad_records
// when the decompressed records are not exactly records_count well-framed records with offset
// deltas 0..count-1, batch_errc::bad_record_count when last_offset_delta != count-1.

// Decompresses (if needed) and checks the framing of every record, as Kafka's broker does
// before appending a compressed batch. Allocates the decompressed records transiently.
result<void> validate_compressed_batch(std::span<const uint8_t> batch, size_t max_records_bytes);

// Returns a new batch with the records section encoded by `target` (none = uncompressed) at
// `level` (compression.h), the attributes' compression bits set to `target`, batch_length and
// CRC-32C recomputed; every other header field is kept. Always re-encodes, even when `target`
// equals the current codec (callers skip the call when they want the producer's bytes kept).
result<std::vector<uint8_t>> recompress_batch(std::span<const uint8_t> batch, compression target, int level,
                                              size_t max_records_bytes);

}  // namespace sluice::model
