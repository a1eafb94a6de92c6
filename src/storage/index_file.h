#pragma once
// The two sparse per-segment indexes, byte-compatible with Kafka's:
//   .index      docs/format/offset-index.md  entry = relative offset (int32 BE) + position (int32 BE)
//   .timeindex  docs/format/time-index.md    entry = timestamp (int64 BE) + relative offset (int32 BE)
// The in-memory copy is the file image (the entries, big-endian). Appends touch memory only;
// pending entries reach the file on write_pending() (flush, roll, close, or when the backlog
// grows), so an append costs no extra syscall. An active index file is preallocated (sparse) to
// segment.index.bytes like Kafka's and trimmed to its entries when the segment stops being
// active. Loading stops at the first all-zero entry after the first one (the preallocated tail).
// Same thread contract as the owning segment.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/endian.h"
#include "base/result.h"
#include "storage/file_system.h"

namespace sluice::storage {

class index_file {
 public:
  index_file(file_system& fs, std::string path, size_t entry_size, size_t max_bytes)
      : _fs(fs), _path(std::move(path)), _entry_size(entry_size), _max_bytes(max_bytes / entry_size * entry_size) {}

  // Creates (or resets) the file: empty content, preallocated to max_bytes.
  result<void> create();
  // Reads the file into memory. Does not judge the entries (see the index classes).
  result<void> load();
  bool loaded() const { return _loaded; }
  // Forgets in-memory state (the next use loads the file again).
  void unload() { _bytes.clear(); _bytes.shrink_to_fit(); _written = 0; _loaded = false; }

  size_t entries() const { return _bytes.size() / _entry_size; }
  size_t max_entries() const { return _max_bytes / _entry_size; }
  bool full() const { return entries() >= max_entries(); }
  const uint8_t* entry(size_t i) const { return _bytes.data() + i * _entry_size; }
  void append_raw(const uint8_t* e) { _bytes.insert(_bytes.end(), e, e + _entry_size); }
  // Keeps the first n entries (in memory and, if already written, in the file).
  result<void> truncate_entries(size_t n);
  result<void> clear() { return truncate_entries(0); }

  result<void> write_pending();
  result<void> flush();  // write_pending + fsync
  // Writes pending entries and shrinks the file to exactly its entries (segment becomes inactive).
  result<void> trim();
  // Re-extends a trimmed file to max_bytes (segment becomes active again after truncation).
  result<void> preallocate();
  size_t pending_bytes() const { return _bytes.size() - _written; }

  const std::string& path() const { return _path; }
  void set_path(std::string p) { _path = std::move(p); }
  size_t entry_size() const { return _entry_size; }
  // Closes the descriptor (files renamed/removed by the caller afterwards).
  void close() { _file.reset(); }

 private:
  result<void> ensure_open();

  file_system& _fs;
  std::string _path;
  size_t _entry_size;
  size_t _max_bytes;
  std::shared_ptr<file> _file;
  std::vector<uint8_t> _bytes;
  size_t _written = 0;        // prefix of _bytes already in the file
  bool _loaded = false;
  bool _preallocated = false; // file length is _max_bytes rather than the entries
};

struct offset_position {
  int64_t offset = 0;      // absolute offset (the last offset of the batch at `position`)
  uint32_t position = 0;   // byte position of that batch in the .log file
};

class offset_index {
 public:
  static constexpr size_t entry_size = 8;
  offset_index(file_system& fs, std::string path, int64_t base_offset, size_t max_bytes)
      : _f(fs, std::move(path), entry_size, max_bytes), _base(base_offset) {}

  index_file& file() { return _f; }
  const index_file& file() const { return _f; }
  size_t entries() const { return _f.entries(); }
  bool full() const { return _f.full(); }
  offset_position at(size_t i) const {
    return {_base + load_be<int32_t>(_f.entry(i)), load_be<uint32_t>(_f.entry(i) + 4)};
  }
  std::optional<offset_position> last() const {
    if (entries() == 0) return std::nullopt;
    return at(entries() - 1);
  }
  // REQUIRES: offset > last offset, position > last position, offset - base fits int32.
  void append(int64_t offset, uint32_t position);
  // Largest entry with offset <= target, or {base_offset, 0}.
  offset_position lookup(int64_t target) const;
  // Drops entries with offset >= offset.
  result<void> truncate_to(int64_t offset);
  // Entries strictly increasing in offset and position, offsets in [base, next_base), positions
  // below log_size. Returns a description of the first problem, or empty.
  std::string check(uint64_t log_size, int64_t next_base_offset) const;

 private:
  index_file _f;
  int64_t _base;
};

struct timestamp_offset {
  int64_t timestamp = -1;
  int64_t offset = 0;  // absolute offset (the last offset of the batch holding the timestamp)
};

class time_index {
 public:
  static constexpr size_t entry_size = 12;
  time_index(file_system& fs, std::string path, int64_t base_offset, size_t max_bytes)
      : _f(fs, std::move(path), entry_size, max_bytes), _base(base_offset) {}

  index_file& file() { return _f; }
  const index_file& file() const { return _f; }
  size_t entries() const { return _f.entries(); }
  bool full() const { return _f.full(); }
  timestamp_offset at(size_t i) const {
    return {load_be<int64_t>(_f.entry(i)), _base + load_be<int32_t>(_f.entry(i) + 8)};
  }
  std::optional<timestamp_offset> last() const {
    if (entries() == 0) return std::nullopt;
    return at(entries() - 1);
  }
  // Appends only when timestamp exceeds the last entry's (Kafka's maybeAppend); skip_full_check
  // lets the final entry of a rolled segment in even when the index is full.
  void maybe_append(int64_t timestamp, int64_t offset, bool skip_full_check = false);
  // Largest entry with timestamp <= target, or {-1, base_offset}.
  timestamp_offset lookup(int64_t target) const;
  result<void> truncate_to(int64_t offset);
  std::string check(int64_t next_base_offset) const;

 private:
  index_file _f;
  int64_t _base;
};

}  // namespace sluice::storage
