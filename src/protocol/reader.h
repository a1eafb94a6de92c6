#pragma once
// reader: a bounded cursor over one received frame. Every read is bounds-checked; the first
// failure is recorded (error code + byte offset) and turns every later read into a no-op that
// yields zero/empty values, so decoders can check ok() once per struct instead of per field.
// Nothing here throws or allocates more than the input could justify: string/bytes lengths are
// checked against remaining(), array counts against remaining() / (minimum element size).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "base/endian.h"
#include "base/result.h"
#include "protocol/errc.h"
#include "protocol/records.h"
#include "protocol/tagged_fields.h"

namespace sluice::protocol {

using uuid = std::array<uint8_t, 16>;

class reader {
 public:
  explicit reader(std::span<const uint8_t> bytes) : _p(bytes.data()), _begin(bytes.data()), _end(bytes.data() + bytes.size()) {}
  // Over a mutable buffer: records decoded from it may be rewritten in place (records::mutable_data).
  explicit reader(std::span<uint8_t> bytes) : reader(std::span<const uint8_t>(bytes)) { _mutable = true; }

  bool ok() const { return _err == errc::ok; }
  errc error() const { return _err; }
  // Byte offset (from the start of this reader's span, plus base_offset()) of the first failure.
  size_t error_offset() const { return _err_offset; }
  result<void> status() const { return ok() ? result<void>{} : result<void>{make_error_code(_err)}; }
  size_t position() const { return static_cast<size_t>(_p - _begin) + _base; }
  size_t remaining() const { return static_cast<size_t>(_end - _p); }
  // Records the first failure and makes the reader empty.
  void fail(errc e);

  int8_t read_int8() { return static_cast<int8_t>(read_fixed<uint8_t>()); }
  int16_t read_int16() { return read_fixed<int16_t>(); }
  uint16_t read_uint16() { return read_fixed<uint16_t>(); }
  int32_t read_int32() { return read_fixed<int32_t>(); }
  uint32_t read_uint32() { return read_fixed<uint32_t>(); }
  int64_t read_int64() { return read_fixed<int64_t>(); }
  double read_float64();
  bool read_bool() { return read_int8() != 0; }
  uuid read_uuid();
  uint32_t read_uvarint32();
  std::span<const uint8_t> read_raw(size_t n);

  // Strings/bytes: classic (int16/int32 length, -1 = null) or compact (uvarint N+1, 0 = null).
  // `nullable` says whether null is legal in this version; a null where it is not fails.
  void read_string(std::string& out, bool flexible);
  void read_nullable_string(std::optional<std::string>& out, bool flexible, bool nullable);
  void read_bytes(std::vector<uint8_t>& out, bool flexible);
  void read_nullable_bytes(std::optional<std::vector<uint8_t>>& out, bool flexible, bool nullable);
  void read_records(records& out, bool flexible, bool nullable);
  // Array count: -1 for null (only when nullable), else a count n with
  // n * max(1, min_element_bytes) <= remaining(); on failure returns -1 with ok() false.
  int32_t read_array_len(bool flexible, bool nullable, size_t min_element_bytes);

  // Tagged-field section header: returns the number of tags (bounded by remaining()/2).
  uint32_t read_tag_count();
  // Splits off the next n bytes as a child reader (for one tagged field's payload).
  reader sub(size_t n);
  // Adopts a child's failure (if any) as this reader's failure.
  void absorb(const reader& child);
  // Tags must be strictly ascending (KIP-482); `previous` starts at -1. Fails otherwise.
  // (Kafka's own decoder is lenient here; being strict keeps decode/encode a bijection.)
  bool check_tag_order(uint32_t tag, int64_t& previous);
  // Reads one unknown tag payload of n bytes into `out`.
  void read_unknown_tag(tagged_fields& out, uint32_t tag, uint32_t n);

 private:
  template <typename T>
  T read_fixed() {
    if (remaining() < sizeof(T)) {
      fail(errc::truncated);
      return T{};
    }
    T v = load_be<T>(_p);
    _p += sizeof(T);
    return v;
  }
  // Length prefix of a string (int16) / bytes (int32) / compact (uvarint N+1); -1 = null.
  int64_t read_length(bool flexible, bool wide);

  const uint8_t* _p;
  const uint8_t* _begin;
  const uint8_t* _end;
  size_t _base = 0;
  bool _mutable = false;
  errc _err = errc::ok;
  size_t _err_offset = 0;
};

}  // namespace sluice::protocol
