#pragma once
// Big-endian writer and bounds-checked reader for the coordinators' internal-topic records
// (__consumer_offsets: group/offsets_format.cc; __transaction_state: txn/txn_log_format.cc),
// which use Kafka's classic encodings: int16-length strings (-1 = null), int32-length bytes,
// and, in flexible versions, unsigned varints and compact strings.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/endian.h"

namespace sluice::coordinator {

class record_writer {
 public:
  template <typename T>
  void num(T v) {
    char b[sizeof(T)];
    store_be<T>(b, v);
    _s.append(b, sizeof(T));
  }
  // REQUIRES: s.size() <= INT16_MAX.
  void str(const std::string& s) {
    num<int16_t>(static_cast<int16_t>(s.size()));
    _s += s;
  }
  void nullable_str(const std::optional<std::string>& s) {
    if (!s) return num<int16_t>(-1);
    str(*s);
  }
  void bytes(const std::vector<uint8_t>& b) {
    num<int32_t>(static_cast<int32_t>(b.size()));
    _s.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  std::string take() { return std::move(_s); }

 private:
  std::string _s;
};

// Every read fails (and the reader stays failed) past the end or on a malformed length.
class record_reader {
 public:
  explicit record_reader(std::span<const uint8_t> b) : _b(b) {}
  bool ok() const { return _ok; }
  bool done() const { return _ok && _pos == _b.size(); }
  size_t remaining() const { return _b.size() - _pos; }
  void fail() { _ok = false; }

  template <typename T>
  T num() {
    if (!need(sizeof(T))) return T{};
    T v = load_be<T>(_b.data() + _pos);
    _pos += sizeof(T);
    return v;
  }
  // Unsigned varint (flexible versions), at most 5 bytes for 32 bits.
  uint32_t uvarint() {
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (!need(1)) return 0;
      uint8_t byte = _b[_pos++];
      if (shift == 28 && (byte & 0xf0) != 0) break;  // more than 32 bits
      v |= static_cast<uint32_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    _ok = false;
    return 0;
  }
  std::string raw(size_t n) {
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(_b.data() + _pos), n);
    _pos += n;
    return s;
  }
  void skip(size_t n) {
    if (need(n)) _pos += n;
  }
  std::optional<std::string> nullable_str() {
    auto n = num<int16_t>();
    if (!_ok || n == -1) return std::nullopt;
    if (n < 0) {
      _ok = false;
      return std::nullopt;
    }
    auto s = raw(static_cast<size_t>(n));
    if (!_ok) return std::nullopt;
    return s;
  }
  std::string str() {
    auto s = nullable_str();
    if (!s) _ok = false;
    return s ? std::move(*s) : std::string{};
  }
  // Compact (flexible) non-nullable string: uvarint length+1, 0 (null) is malformed.
  std::string compact_str() {
    auto n = uvarint();
    if (!_ok || n == 0) {
      _ok = false;
      return {};
    }
    return raw(n - 1);
  }
  // int32 length, -1 = null (read as empty).
  std::vector<uint8_t> bytes() {
    auto n = num<int32_t>();
    if (!_ok || n == -1) return {};
    if (n < 0 || !need(static_cast<size_t>(n))) {
      _ok = false;
      return {};
    }
    std::vector<uint8_t> v(_b.begin() + static_cast<ptrdiff_t>(_pos),
                           _b.begin() + static_cast<ptrdiff_t>(_pos + static_cast<size_t>(n)));
    _pos += static_cast<size_t>(n);
    return v;
  }

 private:
  bool need(size_t n) {
    if (!_ok || _b.size() - _pos < n) _ok = false;
    return _ok;
  }
  std::span<const uint8_t> _b;
  size_t _pos = 0;
  bool _ok = true;
};

}  // namespace sluice::coordinator
