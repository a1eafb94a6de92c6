#include "protocol/writer.h"

#include <algorithm>
#include <bit>

#include "base/assert.h"
#include "base/varint.h"

namespace sluice::protocol {

void writer::write_float64(double v) { put_fixed(std::bit_cast<uint64_t>(v)); }

void writer::write_uvarint(uint64_t v) {
  uint8_t b[varint_max_bytes_u64];
  write_raw({b, ::sluice::write_uvarint(b, v)});
}

void writer::write_raw(std::span<const uint8_t> bytes) {
  _cur.insert(_cur.end(), bytes.begin(), bytes.end());
  _size += bytes.size();
}

void writer::write_file(const file_range& range) {
  if (range.size == 0) return;
  seal();
  _chunks.emplace_back(range);
  _size += range.size;
}

void writer::write_string(std::string_view s, bool flexible) {
  SLUICE_ASSERT(s.size() <= INT16_MAX, "string of {} bytes does not fit the wire format", s.size());
  if (flexible) write_uvarint(s.size() + 1);
  else write_int16(static_cast<int16_t>(s.size()));
  write_raw({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

void writer::write_nullable_string(const std::optional<std::string>& s, bool flexible, bool nullable) {
  if (s) return write_string(*s, flexible);
  if (!nullable) return write_string({}, flexible);
  if (flexible) write_uvarint(0);
  else write_int16(-1);
}

void writer::write_bytes(std::span<const uint8_t> b, bool flexible) {
  SLUICE_ASSERT(b.size() <= INT32_MAX, "bytes of {} bytes do not fit the wire format", b.size());
  if (flexible) write_uvarint(b.size() + 1);
  else write_int32(static_cast<int32_t>(b.size()));
  write_raw(b);
}

void writer::write_nullable_bytes(const std::optional<std::vector<uint8_t>>& b, bool flexible, bool nullable) {
  if (b) return write_bytes(*b, flexible);
  if (!nullable) return write_bytes({}, flexible);
  if (flexible) write_uvarint(0);
  else write_int32(-1);
}

void writer::write_records(const records& r, bool flexible, bool nullable) {
  if (r.is_null()) {
    if (!nullable) return write_array_len(0, flexible);
    return write_array_len(-1, flexible);
  }
  uint64_t n = r.size_bytes();
  SLUICE_ASSERT(n <= INT32_MAX, "records of {} bytes do not fit the wire format", n);
  write_array_len(static_cast<int64_t>(n), flexible);  // same length encoding as bytes
  if (r.has_files()) {
    for (const auto& f : r.file_ranges()) write_file(f);
  } else {
    write_raw(r.data());
  }
}

void writer::write_array_len(int64_t count, bool flexible) {
  SLUICE_ASSERT(count <= INT32_MAX, "count {} does not fit the wire format", count);
  if (flexible) write_uvarint(static_cast<uint64_t>(count + 1));
  else write_int32(static_cast<int32_t>(count));
}

void writer::write_tags(const tagged_fields& unknown) {
  std::vector<encoded_tag> none;
  write_tags(none, unknown);
}

void writer::write_tags(std::vector<encoded_tag>& known, const tagged_fields& unknown) {
  write_uvarint(known.size() + unknown.size());
  if (known.empty() && unknown.empty()) return;
  std::sort(known.begin(), known.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
  // Unknown tags are kept in arrival order, which a conforming peer sends ascending; merge.
  std::vector<const tagged_field*> unk;
  unk.reserve(unknown.size());
  for (const auto& t : unknown) unk.push_back(&t);
  std::stable_sort(unk.begin(), unk.end(), [](auto* a, auto* b) { return a->tag < b->tag; });
  size_t i = 0, j = 0;
  while (i < known.size() || j < unk.size()) {
    if (j == unk.size() || (i < known.size() && known[i].tag <= unk[j]->tag)) {
      write_uvarint(known[i].tag);
      write_uvarint(known[i].data.size());
      write_raw(known[i].data);
      ++i;
    } else {
      write_uvarint(unk[j]->tag);
      write_uvarint(unk[j]->data.size());
      write_raw(unk[j]->data);
      ++j;
    }
  }
}

size_t writer::begin_frame() {
  size_t pos = _size;
  write_int32(0);
  return pos;
}

void writer::end_frame(size_t pos) {
  SLUICE_ASSERT(pos + 4 <= _size, "end_frame: bad position {}", pos);
  size_t len = _size - pos - 4;
  SLUICE_ASSERT(len <= INT32_MAX, "frame of {} bytes", len);
  uint8_t b[4];
  store_be(b, static_cast<int32_t>(len));
  // Find the owned buffer holding [pos, pos+4); begin_frame wrote it into one buffer.
  size_t start = 0;
  for (auto& c : _chunks) {
    size_t n = std::visit([](const auto& x) -> size_t {
      if constexpr (std::is_same_v<std::decay_t<decltype(x)>, file_range>) return x.size;
      else return x.size();
    }, c);
    if (pos < start + n) {
      auto* v = std::get_if<std::vector<uint8_t>>(&c);
      SLUICE_ASSERT(v && pos - start + 4 <= v->size(), "end_frame: length not in an owned buffer");
      std::copy(b, b + 4, v->begin() + static_cast<ptrdiff_t>(pos - start));
      return;
    }
    start += n;
  }
  SLUICE_ASSERT(pos - start + 4 <= _cur.size(), "end_frame: length not in the open buffer");
  std::copy(b, b + 4, _cur.begin() + static_cast<ptrdiff_t>(pos - start));
}

void writer::seal() {
  if (_cur.empty()) return;
  _chunks.emplace_back(std::move(_cur));
  _cur = {};
}

const std::vector<writer_chunk>& writer::chunks() {
  seal();
  return _chunks;
}

std::vector<writer_chunk> writer::take_chunks() && {
  seal();
  return std::move(_chunks);
}

std::vector<uint8_t> writer::flatten() const {
  std::vector<uint8_t> out;
  out.reserve(_size);
  auto add = [&](const writer_chunk& c) {
    if (auto* v = std::get_if<std::vector<uint8_t>>(&c)) {
      out.insert(out.end(), v->begin(), v->end());
    } else {
      auto bytes = records::files({std::get<file_range>(c)}).to_vector();
      out.insert(out.end(), bytes.begin(), bytes.end());
    }
  };
  for (const auto& c : _chunks) add(c);
  out.insert(out.end(), _cur.begin(), _cur.end());
  return out;
}

}  // namespace sluice::protocol
