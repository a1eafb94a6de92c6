#include "server/produce_validation.h"

#include <cstdlib>
#include <limits>

#include "model/record_batch.h"
#include "model/recompress.h"
#include "storage/errc.h"

namespace sluice::server {

protocol::error_code validate_produce_batch(std::span<const uint8_t> records, const storage::log_config& cfg,
                                            int16_t produce_version, int64_t now_ms) {
  using E = protocol::error_code;
  if (records.size() < model::batch_layout::header_size) return E::corrupt_message;
  auto size = model::peek_batch_size(records, std::numeric_limits<int32_t>::max());
  if (!size) {
    return size.error() == make_error_code(model::batch_errc::bad_magic) ? E::invalid_record : E::corrupt_message;
  }
  if (*size < records.size()) return E::invalid_record;  // Produce v3+: exactly one batch
  if (*size > records.size()) return E::corrupt_message;
  if (records.size() > static_cast<size_t>(cfg.max_message_bytes)) return E::message_too_large;
  if (auto v = model::validate_batch(records); !v) {
    return v.error() == make_error_code(model::batch_errc::bad_record_count) ? E::invalid_record : E::corrupt_message;
  }
  model::batch_view b(records);
  if (b.is_control()) return E::invalid_record;
  // A transactional batch needs a producer id and epoch (Kafka's LogValidator); whether the
  // partition is in the producer's transaction is the coordinator's call (produce handler).
  if (b.is_transactional() && (b.producer_id() < 0 || b.producer_epoch() < 0)) return E::invalid_record;
  // Idempotent batches: the sequence rules are checked with the append, on the owner shard
  // (storage/producer_state.h). A producer id without a sequence is malformed (Kafka's
  // LogValidator).
  if (b.producer_id() >= 0 && b.base_sequence() < 0) return E::invalid_record;
  auto codec = static_cast<int>(b.codec());
  if (codec > static_cast<int>(model::compression::zstd)) return E::corrupt_message;
  if (b.codec() == model::compression::zstd && produce_version < 7) return E::unsupported_compression_type;
  if (b.codec() != model::compression::none) {
    // Like Kafka, look inside compressed batches: a corrupt or lying payload is refused now
    // rather than served to every consumer later.
    if (auto v = model::validate_compressed_batch(records, max_decompressed_batch_bytes); !v) return E::corrupt_message;
  }
  if (cfg.message_timestamp_type == storage::timestamp_type::create_time &&
      cfg.message_timestamp_difference_max_ms != std::numeric_limits<int64_t>::max() &&
      b.max_timestamp() != -1 /* no timestamp (up-converted magic 0): nothing to check */) {
    int64_t diff = now_ms - b.max_timestamp();
    if (diff < 0) diff = -diff;
    if (diff > cfg.message_timestamp_difference_max_ms) return E::invalid_timestamp;
  }
  return E::none;
}

}  // namespace sluice::server

namespace sluice::server {

protocol::error_code storage_error_to_kafka(std::error_code ec) {
  using E = protocol::error_code;
  if (ec == make_error_code(storage::errc::message_too_large)) return E::message_too_large;
  if (ec == make_error_code(storage::errc::corrupt_batch)) return E::corrupt_message;
  if (ec == make_error_code(storage::errc::out_of_order_sequence)) return E::out_of_order_sequence_number;
  if (ec == make_error_code(storage::errc::invalid_producer_epoch)) return E::invalid_producer_epoch;
  if (ec == make_error_code(storage::errc::unknown_producer_id)) return E::unknown_producer_id;
  if (ec == make_error_code(storage::errc::invalid_txn_state)) return E::invalid_txn_state;
  if (ec == make_error_code(storage::errc::transaction_coordinator_fenced)) return E::transaction_coordinator_fenced;
  // OS errors (ENOSPC, EIO) and a failed log: the disk is the problem, the client may retry.
  if (ec.category() == std::system_category() || ec.category() == std::generic_category() ||
      ec == make_error_code(storage::errc::log_failed))
    return E::kafka_storage_error;
  return E::unknown_server_error;
}

std::optional<model::compression> target_compression(const storage::log_config& cfg) {
  const auto& t = cfg.compression_type;
  if (t == "uncompressed") return model::compression::none;
  if (t == "gzip") return model::compression::gzip;
  if (t == "snappy") return model::compression::snappy;
  if (t == "lz4") return model::compression::lz4;
  if (t == "zstd") return model::compression::zstd;
  return std::nullopt;  // "producer"
}

int compression_level(const storage::log_config& cfg, model::compression codec) {
  switch (codec) {
    case model::compression::gzip: return cfg.compression_gzip_level;
    case model::compression::lz4: return cfg.compression_lz4_level;
    case model::compression::zstd: return cfg.compression_zstd_level;
    default: return -1;
  }
}

}  // namespace sluice::server
