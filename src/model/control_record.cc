#include "model/control_record.h"

#include <string>

#include "base/endian.h"
#include "base/varint.h"
#include "model/record_batch_builder.h"

namespace sluice::model {

std::optional<txn_marker> parse_txn_marker(const batch_view& batch) {
  if (!batch.is_control() || batch.codec() != compression::none || batch.records_count() < 1) return std::nullopt;
  auto recs = batch.records();
  const uint8_t* p = recs.data();
  const uint8_t* end = p + recs.size();
  auto len = read_varint(p, end, varint_max_bytes_u32);
  if (!len || len->first < 1 || len->first > end - p - static_cast<int64_t>(len->second)) return std::nullopt;
  p += len->second;
  const uint8_t* rec_end = p + len->first;
  ++p;  // record attributes
  for (int i = 0; i < 2; ++i) {  // timestamp delta, offset delta
    auto v = read_varint(p, rec_end);
    if (!v) return std::nullopt;
    p += v->second;
  }
  auto key_len = read_varint(p, rec_end, varint_max_bytes_u32);
  if (!key_len || key_len->first < 4 || key_len->first > rec_end - p - static_cast<int64_t>(key_len->second))
    return std::nullopt;
  p += key_len->second;
  const int16_t key_version = load_be<int16_t>(p);
  const int16_t type = load_be<int16_t>(p + 2);
  p += key_len->first;
  // Kafka reads key version 0 and tolerates newer ones (it reads the type that follows).
  if (key_version < 0 || (type != 0 && type != 1)) return std::nullopt;
  txn_marker m;
  m.type = static_cast<control_type>(type);
  auto value_len = read_varint(p, rec_end, varint_max_bytes_u32);
  if (!value_len || value_len->first < 6 || value_len->first > rec_end - p - static_cast<int64_t>(value_len->second))
    return std::nullopt;
  p += value_len->second;
  if (load_be<int16_t>(p) < 0) return std::nullopt;
  m.coordinator_epoch = load_be<int32_t>(p + 2);
  return m;
}

std::vector<uint8_t> build_txn_marker_batch(int64_t producer_id, int16_t producer_epoch, const txn_marker& marker,
                                            int64_t timestamp_ms) {
  std::string key(4, '\0'), value(6, '\0');
  store_be<int16_t>(reinterpret_cast<uint8_t*>(key.data()), 0);
  store_be<int16_t>(reinterpret_cast<uint8_t*>(key.data()) + 2, static_cast<int16_t>(marker.type));
  store_be<int16_t>(reinterpret_cast<uint8_t*>(value.data()), 0);
  store_be<int32_t>(reinterpret_cast<uint8_t*>(value.data()) + 2, marker.coordinator_epoch);
  batch_options opts;
  opts.attributes = batch_attr::control | batch_attr::transactional;
  opts.producer_id = producer_id;
  opts.producer_epoch = producer_epoch;
  opts.base_sequence = -1;
  record_data r;
  r.key = std::move(key);
  r.value = std::move(value);
  r.timestamp_ms = timestamp_ms;
  return build_batch({r}, opts);
}

}  // namespace sluice::model
