#include "protocol/reader.h"

#include <bit>
#include <cstring>

#include "base/varint.h"

namespace sluice::protocol {

void reader::fail(errc e) {
  if (_err == errc::ok) {
    _err = e;
    _err_offset = position();
  }
  _p = _end;
}

double reader::read_float64() { return std::bit_cast<double>(read_fixed<uint64_t>()); }

uuid reader::read_uuid() {
  uuid u{};
  if (remaining() < u.size()) {
    fail(errc::truncated);
    return u;
  }
  std::memcpy(u.data(), _p, u.size());
  _p += u.size();
  return u;
}

uint32_t reader::read_uvarint32() {
  if (!ok()) return 0;
  auto r = read_uvarint(_p, _end, varint_max_bytes_u32);
  if (!r) {
    // Fewer than 5 bytes left means every one of them had the continuation bit set.
    fail(remaining() < varint_max_bytes_u32 ? errc::truncated : errc::bad_varint);
    return 0;
  }
  if (r->value > UINT32_MAX) {
    fail(errc::bad_varint);
    return 0;
  }
  _p += r->bytes;
  return static_cast<uint32_t>(r->value);
}

std::span<const uint8_t> reader::read_raw(size_t n) {
  if (remaining() < n) {
    fail(errc::truncated);
    return {};
  }
  std::span<const uint8_t> s(_p, n);
  _p += n;
  return s;
}

int64_t reader::read_length(bool flexible, bool wide) {
  if (flexible) return static_cast<int64_t>(read_uvarint32()) - 1;
  return wide ? read_int32() : read_int16();
}

void reader::read_string(std::string& out, bool flexible) {
  std::optional<std::string> s;
  read_nullable_string(s, flexible, false);
  out = s ? std::move(*s) : std::string();
}

void reader::read_nullable_string(std::optional<std::string>& out, bool flexible, bool nullable) {
  out.reset();
  int64_t n = read_length(flexible, false);
  if (!ok()) return;
  if (n < 0) {
    if (n == -1 && nullable) return;
    fail(n == -1 ? errc::null_not_allowed : errc::negative_length);
    return;
  }
  // Strings are at most INT16_MAX bytes in every encoding (Kafka rejects longer compact ones too).
  if (n > INT16_MAX || static_cast<uint64_t>(n) > remaining()) {
    fail(errc::length_too_large);
    return;
  }
  out.emplace(reinterpret_cast<const char*>(_p), static_cast<size_t>(n));
  _p += n;
}

void reader::read_bytes(std::vector<uint8_t>& out, bool flexible) {
  std::optional<std::vector<uint8_t>> b;
  read_nullable_bytes(b, flexible, false);
  out = b ? std::move(*b) : std::vector<uint8_t>();
}

void reader::read_nullable_bytes(std::optional<std::vector<uint8_t>>& out, bool flexible, bool nullable) {
  out.reset();
  int64_t n = read_length(flexible, true);
  if (!ok()) return;
  if (n < 0) {
    if (n == -1 && nullable) return;
    fail(n == -1 ? errc::null_not_allowed : errc::negative_length);
    return;
  }
  if (static_cast<uint64_t>(n) > remaining()) {
    fail(errc::length_too_large);
    return;
  }
  out.emplace(_p, _p + n);
  _p += n;
}

void reader::read_records(records& out, bool flexible, bool nullable) {
  out = records();
  int64_t n = read_length(flexible, true);
  if (!ok()) return;
  if (n < 0) {
    if (n == -1 && nullable) return;
    fail(n == -1 ? errc::null_not_allowed : errc::negative_length);
    return;
  }
  if (static_cast<uint64_t>(n) > remaining()) {
    fail(errc::length_too_large);
    return;
  }
  if (_mutable) {
    out = records::mutable_view({const_cast<uint8_t*>(_p), static_cast<size_t>(n)});
  } else {
    out = records::view({_p, static_cast<size_t>(n)});
  }
  _p += n;
}

int32_t reader::read_array_len(bool flexible, bool nullable, size_t min_element_bytes) {
  int64_t n = read_length(flexible, true);
  if (!ok()) return -1;
  if (n < 0) {
    if (n == -1 && nullable) return -1;
    fail(n == -1 ? errc::null_not_allowed : errc::negative_length);
    return -1;
  }
  if (min_element_bytes == 0) min_element_bytes = 1;
  if (static_cast<uint64_t>(n) > remaining() / min_element_bytes) {
    fail(errc::count_too_large);
    return -1;
  }
  return static_cast<int32_t>(n);
}

uint32_t reader::read_tag_count() {
  uint32_t n = read_uvarint32();
  if (ok() && n > remaining() / 2) {  // every tag needs at least a tag byte and a size byte
    fail(errc::count_too_large);
    return 0;
  }
  return n;
}

reader reader::sub(size_t n) {
  auto s = read_raw(n);
  reader child(s);
  child._base = position() - n;
  child._mutable = _mutable;
  if (!ok()) child.fail(_err);
  return child;
}

void reader::absorb(const reader& child) {
  if (!child.ok() && ok()) {
    _err = child._err;
    _err_offset = child._err_offset;
    _p = _end;
  }
}

bool reader::check_tag_order(uint32_t tag, int64_t& previous) {
  if (static_cast<int64_t>(tag) <= previous) {
    fail(errc::bad_tagged_field);
    return false;
  }
  previous = tag;
  return ok();
}

void reader::read_unknown_tag(tagged_fields& out, uint32_t tag, uint32_t n) {
  auto s = read_raw(n);
  if (!ok()) return;
  out.push_back(tagged_field{tag, std::vector<uint8_t>(s.begin(), s.end())});
}

}  // namespace sluice::protocol
