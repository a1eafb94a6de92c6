#include "model/recompress.h"

#include <cstring>
#include <limits>
#include <optional>

#include "base/crc32c.h"
#include "base/endian.h"

namespace sluice::model {

namespace L = batch_layout;

namespace {

// The decompressed records of `batch`: owned when the batch was compressed, else a view.
struct plain_records {
  std::optional<std::vector<uint8_t>> owned;
  std::span<const uint8_t> bytes;
};

result<plain_records> decode_and_check(std::span<const uint8_t> batch, size_t max_records_bytes) {
  // Cheap defence against a violated precondition; full checks are validate_batch's job.
  if (batch.size() < L::header_size) return batch_errc::truncated;
  batch_view v(batch);
  compression codec = v.codec();
  if (!is_known_codec(codec)) return compression_errc::unsupported_codec;
  int32_t count = v.records_count();
  if (count < 0 || v.last_offset_delta() != count - 1) return batch_errc::bad_record_count;
  plain_records r;
  if (codec == compression::none) {
    if (v.records().size() > max_records_bytes) return compression_errc::output_too_large;
    r.bytes = v.records();
  } else {
    auto d = decompress(codec, v.records(), max_records_bytes);
    if (!d) return d.error();
    r.owned = std::move(*d);
    r.bytes = *r.owned;
  }
  auto f = validate_record_framing(r.bytes.data(), r.bytes.data() + r.bytes.size(), count);
  if (!f) return f.error();
  return r;
}

}  // namespace

result<void> validate_compressed_batch(std::span<const uint8_t> batch, size_t max_records_bytes) {
  auto r = decode_and_check(batch, max_records_bytes);
  if (!r) return r.error();
  return ok();
}

result<std::vector<uint8_t>> recompress_batch(std::span<const uint8_t> batch, compression target, int level,
                                              size_t max_records_bytes) {
  if (!is_known_codec(target)) return compression_errc::unsupported_codec;
  auto plain = decode_and_check(batch, max_records_bytes);
  if (!plain) return plain.error();

  std::optional<std::vector<uint8_t>> encoded;
  std::span<const uint8_t> records = plain->bytes;
  if (target != compression::none) {
    auto c = compress(target, records, level);
    if (!c) return c.error();
    encoded = std::move(*c);
    records = *encoded;
  }
  size_t total = L::header_size + records.size();
  if (total - L::log_overhead > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return batch_errc::bad_length;

  std::vector<uint8_t> out(total);
  std::memcpy(out.data(), batch.data(), L::header_size);
  if (!records.empty()) std::memcpy(out.data() + L::header_size, records.data(), records.size());
  uint8_t* p = out.data();
  store_be<int32_t>(p + L::batch_length, static_cast<int32_t>(total - L::log_overhead));
  int16_t attrs = load_be<int16_t>(p + L::attributes);
  attrs = static_cast<int16_t>((attrs & ~batch_attr::compression_mask) | static_cast<int16_t>(target));
  store_be<int16_t>(p + L::attributes, attrs);
  store_be<uint32_t>(p + L::crc, crc32c(p + L::attributes, total - L::attributes));
  return out;
}

}  // namespace sluice::model
