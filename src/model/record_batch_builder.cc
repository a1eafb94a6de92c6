#include "model/record_batch_builder.h"

#include <algorithm>
#include <span>

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/varint.h"
#include "model/record_batch.h"

namespace sluice::model {

namespace L = batch_layout;

namespace {
void put_varint(std::vector<uint8_t>& out, int64_t v) {
  uint8_t tmp[varint_max_bytes_u64];
  size_t n = write_varint(tmp, v);
  out.insert(out.end(), tmp, tmp + n);
}
void put_bytes(std::vector<uint8_t>& out, const std::optional<std::string>& s) {
  if (!s) {
    put_varint(out, -1);
    return;
  }
  put_varint(out, static_cast<int64_t>(s->size()));
  out.insert(out.end(), s->begin(), s->end());
}
}  // namespace

std::vector<uint8_t> build_batch(const std::vector<record_data>& records, const batch_options& opts) {
  std::vector<uint8_t> out(L::header_size, 0);
  int64_t base_ts = records.empty() ? 0 : records.front().timestamp_ms;
  int64_t max_ts = base_ts;
  std::vector<uint8_t> body;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    max_ts = std::max(max_ts, r.timestamp_ms);
    body.clear();
    body.push_back(0);  // attributes
    put_varint(body, r.timestamp_ms - base_ts);
    put_varint(body, static_cast<int64_t>(i));
    put_bytes(body, r.key);
    put_bytes(body, r.value);
    put_varint(body, static_cast<int64_t>(r.headers.size()));
    for (const auto& h : r.headers) {
      put_bytes(body, std::optional<std::string>(h.key));
      put_bytes(body, h.value);
    }
    put_varint(out, static_cast<int64_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  uint8_t* p = out.data();
  store_be<int64_t>(p + L::base_offset, opts.base_offset);
  store_be<int32_t>(p + L::batch_length, static_cast<int32_t>(out.size() - L::log_overhead));
  store_be<int32_t>(p + L::partition_leader_epoch, opts.partition_leader_epoch);
  p[L::magic] = 2;
  store_be<int16_t>(p + L::attributes, opts.attributes);
  store_be<int32_t>(p + L::last_offset_delta, static_cast<int32_t>(records.empty() ? 0 : records.size() - 1));
  store_be<int64_t>(p + L::base_timestamp, base_ts);
  store_be<int64_t>(p + L::max_timestamp, max_ts);
  store_be<int64_t>(p + L::producer_id, opts.producer_id);
  store_be<int16_t>(p + L::producer_epoch, opts.producer_epoch);
  store_be<int32_t>(p + L::base_sequence, opts.base_sequence);
  store_be<int32_t>(p + L::records_count, static_cast<int32_t>(records.size()));
  store_be<uint32_t>(p + L::crc, crc32c(p + L::attributes, out.size() - L::attributes));
  return out;
}

std::optional<std::vector<decoded_record>> decode_records(const std::vector<uint8_t>& batch) {
  return decode_records(batch.data(), batch.size());
}

std::optional<std::vector<decoded_record>> decode_records(const uint8_t* data, size_t size) {
  if (size < L::header_size) return std::nullopt;
  batch_view v({data, size});
  if (v.codec() != compression::none) return std::nullopt;
  if (!validate_record_framing(data + L::header_size, data + size, v.records_count())) return std::nullopt;
  std::vector<decoded_record> out;
  const uint8_t* p = data + L::header_size;
  const uint8_t* end = data + size;
  auto rd = [&](const uint8_t*& q) { auto r = read_varint(q, end); q += r->second; return r->first; };
  auto rs = [&](const uint8_t*& q) -> std::optional<std::string> {
    int64_t l = rd(q);
    if (l < 0) return std::nullopt;
    std::string s(reinterpret_cast<const char*>(q), static_cast<size_t>(l));
    q += l;
    return s;
  };
  for (int32_t i = 0; i < v.records_count(); ++i) {
    rd(p);  // length
    ++p;    // attributes
    decoded_record r;
    r.timestamp_ms = v.base_timestamp() + rd(p);
    r.offset = v.base_offset() + rd(p);
    r.key = rs(p);
    r.value = rs(p);
    int64_t hc = rd(p);
    for (int64_t h = 0; h < hc; ++h) {
      record_header hdr;
      hdr.key = *rs(p);
      hdr.value = rs(p);
      r.headers.push_back(std::move(hdr));
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sluice::model
