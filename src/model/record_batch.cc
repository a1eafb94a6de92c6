#include "model/record_batch.h"

#include <limits>

#include "base/crc32c.h"
#include "base/varint.h"

namespace sluice::model {

namespace L = batch_layout;

bool batch_view::crc_ok() const {
  return crc32c(_b.data() + L::attributes, _b.size() - L::attributes) == crc();
}

void set_log_append_time(std::span<uint8_t> b, int64_t now_ms) {
  int16_t attrs = load_be<int16_t>(b.data() + L::attributes);
  store_be<int16_t>(b.data() + L::attributes, static_cast<int16_t>(attrs | batch_attr::timestamp_type_log_append));
  store_be<int64_t>(b.data() + L::max_timestamp, now_ms);
  store_be<uint32_t>(b.data() + L::crc, crc32c(b.data() + L::attributes, b.size() - L::attributes));
}

namespace {
class batch_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "record_batch"; }
  std::string message(int c) const override {
    switch (static_cast<batch_errc>(c)) {
      case batch_errc::ok: return "ok";
      case batch_errc::truncated: return "batch truncated";
      case batch_errc::bad_length: return "batch length out of range";
      case batch_errc::bad_magic: return "unsupported magic (expected 2)";
      case batch_errc::bad_crc: return "CRC-32C mismatch";
      case batch_errc::bad_record_count: return "record count inconsistent with offset delta";
      case batch_errc::bad_records: return "malformed record";
    }
    return "unknown";
  }
};
}  // namespace

const std::error_category& batch_category() {
  static batch_category_impl c;
  return c;
}

result<size_t> peek_batch_size(std::span<const uint8_t> bytes, size_t max_batch_bytes) {
  if (bytes.size() < L::magic + 1) return batch_errc::truncated;
  int32_t len = load_be<int32_t>(bytes.data() + L::batch_length);
  if (len < static_cast<int32_t>(L::header_size - L::log_overhead)) return batch_errc::bad_length;
  size_t total = static_cast<size_t>(len) + L::log_overhead;
  if (total > max_batch_bytes) return batch_errc::bad_length;
  if (static_cast<int8_t>(bytes[L::magic]) != 2) return batch_errc::bad_magic;
  return total;
}

result<void> validate_record_framing(const uint8_t* p, const uint8_t* end, int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    auto len = read_varint(p, end, varint_max_bytes_u32);
    if (!len || len->first < 1 || len->first > end - p - static_cast<int64_t>(len->second))
      return batch_errc::bad_records;
    const uint8_t* rec = p + len->second;
    const uint8_t* rec_end = rec + len->first;
    const uint8_t* q = rec + 1;  // attributes
    auto ts = read_varint(q, rec_end);
    if (!ts) return batch_errc::bad_records;
    q += ts->second;
    auto od = read_varint(q, rec_end, varint_max_bytes_u32);
    if (!od || od->first != i) return batch_errc::bad_records;  // offset deltas must be 0..count-1
    q += od->second;
    // key, value: length (-1 = null) then bytes
    for (int f = 0; f < 2; ++f) {
      auto l = read_varint(q, rec_end, varint_max_bytes_u32);
      if (!l || l->first < -1) return batch_errc::bad_records;
      q += l->second;
      if (l->first > 0) {
        if (l->first > rec_end - q) return batch_errc::bad_records;
        q += l->first;
      }
    }
    auto hc = read_varint(q, rec_end, varint_max_bytes_u32);
    if (!hc || hc->first < 0) return batch_errc::bad_records;
    q += hc->second;
    for (int64_t h = 0; h < hc->first; ++h) {
      for (int f = 0; f < 2; ++f) {
        auto l = read_varint(q, rec_end, varint_max_bytes_u32);
        if (!l || l->first < (f == 0 ? 0 : -1)) return batch_errc::bad_records;
        q += l->second;
        if (l->first > 0) {
          if (l->first > rec_end - q) return batch_errc::bad_records;
          q += l->first;
        }
      }
    }
    if (q != rec_end) return batch_errc::bad_records;
    p = rec_end;
  }
  if (p != end) return batch_errc::bad_records;
  return ok();
}

result<void> validate_batch(std::span<const uint8_t> bytes) {
  auto size = peek_batch_size(bytes, std::numeric_limits<int32_t>::max());
  if (!size) return size.error();
  if (*size != bytes.size()) return *size > bytes.size() ? batch_errc::truncated : batch_errc::bad_length;
  batch_view v(bytes);
  if (!v.crc_ok()) return batch_errc::bad_crc;
  int32_t count = v.records_count();
  if (count <= 0 || v.last_offset_delta() < count - 1) return batch_errc::bad_record_count;
  if (v.codec() == compression::none) {
    if (v.last_offset_delta() != count - 1) return batch_errc::bad_record_count;
    auto r = validate_record_framing(bytes.data() + L::header_size, bytes.data() + bytes.size(), count);
    if (!r) return r.error();
  }
  return ok();
}

}  // namespace sluice::model
