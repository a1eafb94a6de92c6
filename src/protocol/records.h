#pragma once
// The `records` field type (Produce request, Fetch response): a nullable blob of record
// batches that the codec never looks inside.
//
// Three ways to hold the bytes:
//  - view:  decode() points into the request buffer (zero-copy). CONTRACT: the buffer the
//           reader was built over outlives this object (net keeps the request frame alive until
//           the handler finishes). If that reader was built over a mutable span, mutable_data()
//           lets storage rewrite batch headers (base offset, leader epoch) in place.
//  - owned: a byte vector (tests, small responses).
//  - files: file_range chunks from storage; the writer emits them as sendfile chunks.
// Default-constructed = null. Equality compares the bytes (file ranges are read with pread).
#include <cstdint>
#include <span>
#include <vector>

#include "base/file_range.h"

namespace sluice::protocol {

class records {
 public:
  records() = default;
  static records view(std::span<const uint8_t> bytes);
  static records mutable_view(std::span<uint8_t> bytes);
  static records owned(std::vector<uint8_t> bytes);
  static records files(std::vector<file_range> ranges);
  // Non-null and empty.
  static records empty() { return owned({}); }

  bool is_null() const { return _kind == kind::null; }
  bool has_files() const { return _kind == kind::files; }
  uint64_t size_bytes() const;

  // The bytes of a view or owned value (empty for null). REQUIRES: !has_files().
  std::span<const uint8_t> data() const;
  // REQUIRES: owned, or a view made from a mutable buffer (checked).
  std::span<uint8_t> mutable_data();
  bool is_mutable() const { return _kind == kind::owned || (_kind == kind::view && _view_mutable); }
  const std::vector<file_range>& file_ranges() const { return _files; }

  // A copy of all bytes; file ranges are read with pread (tests, debugging; not the hot path).
  std::vector<uint8_t> to_vector() const;

  bool operator==(const records& other) const;

 private:
  enum class kind : uint8_t { null, view, owned, files };
  kind _kind = kind::null;
  bool _view_mutable = false;
  std::span<const uint8_t> _view;
  std::vector<uint8_t> _owned;
  std::vector<file_range> _files;
};

}  // namespace sluice::protocol
