#pragma once
// writer: builds an outgoing message as a list of chunks — owned byte buffers, and file_range
// chunks that the network layer sends with sendfile(2) (Fetch record data, never copied through
// user space). size() is the exact total, so the 4-byte frame length can be filled in before
// anything is sent: begin_frame() reserves it, end_frame() patches it.
//
//   writer w;
//   auto frame = w.begin_frame();
//   response_header{corr}.encode(w, hv);
//   body.encode(w, version);
//   w.end_frame(frame);
//   for (auto& c : w.chunks()) { ... writev bytes / sendfile file_range ... }
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/endian.h"
#include "base/file_range.h"
#include "protocol/records.h"
#include "protocol/tagged_fields.h"

namespace sluice::protocol {

using writer_chunk = std::variant<std::vector<uint8_t>, file_range>;

class writer {
 public:
  writer() = default;

  void write_int8(int8_t v) { put_fixed(static_cast<uint8_t>(v)); }
  void write_int16(int16_t v) { put_fixed(v); }
  void write_uint16(uint16_t v) { put_fixed(v); }
  void write_int32(int32_t v) { put_fixed(v); }
  void write_uint32(uint32_t v) { put_fixed(v); }
  void write_int64(int64_t v) { put_fixed(v); }
  void write_float64(double v);
  void write_bool(bool v) { write_int8(v ? 1 : 0); }
  void write_uuid(const std::array<uint8_t, 16>& u) { write_raw(u); }
  void write_uvarint(uint64_t v);
  void write_raw(std::span<const uint8_t> bytes);
  // Appends a by-reference chunk (sendfile); counts toward size().
  void write_file(const file_range& range);

  void write_string(std::string_view s, bool flexible);
  // `nullable`: whether null is legal in this version; if not, null is written as "".
  void write_nullable_string(const std::optional<std::string>& s, bool flexible, bool nullable);
  void write_bytes(std::span<const uint8_t> b, bool flexible);
  void write_nullable_bytes(const std::optional<std::vector<uint8_t>>& b, bool flexible, bool nullable);
  void write_records(const records& r, bool flexible, bool nullable);
  // count < 0 means null (written as empty when not nullable in this version).
  void write_array_len(int64_t count, bool flexible);

  // Tagged-field section: known tags (already encoded payloads, any order) merged with the
  // unknown ones, written in ascending tag order.
  struct encoded_tag {
    uint32_t tag;
    std::vector<uint8_t> data;
  };
  void write_tags(std::vector<encoded_tag>& known, const tagged_fields& unknown);
  void write_tags(const tagged_fields& unknown);

  // Reserves the int32 frame length at the current position; returns its position.
  size_t begin_frame();
  // Patches the length reserved at `pos` with the number of bytes written after it.
  void end_frame(size_t pos);

  // Total bytes, owned and by-reference.
  size_t size() const { return _size; }
  // The chunks in order (owned buffers are never empty).
  const std::vector<writer_chunk>& chunks();
  std::vector<writer_chunk> take_chunks() &&;
  // All bytes in one vector; file ranges are read with pread (tests and small messages).
  std::vector<uint8_t> flatten() const;

 private:
  template <typename T>
  void put_fixed(T v) {
    uint8_t b[sizeof(T)];
    store_be(b, v);
    write_raw({b, sizeof(T)});
  }
  void seal();

  std::vector<writer_chunk> _chunks;  // sealed chunks
  std::vector<uint8_t> _cur;          // open owned buffer
  size_t _size = 0;
};

}  // namespace sluice::protocol
