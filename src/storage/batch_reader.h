#pragma once
// Sequential reader of the record batches in a .log file (docs/format/log.md), through a 1 MiB
// window, for recovery, replay and `sluice log dump`. It frames batches (length, magic) but does
// not verify CRCs: callers decide what "valid" means.
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "storage/file_system.h"

namespace sluice::storage {

enum class frame_status {
  batch,       // a whole batch was returned
  end,         // clean end: position == end
  truncated,   // fewer bytes remain than the header or the batch length needs
  bad_length,  // batch length below the v2 header size or above max_batch_bytes
  bad_magic,   // magic byte is not 2
};

class batch_reader {
 public:
  static constexpr size_t window_bytes = 1 << 20;

  // Reads [start, end) of `f`. Batches larger than max_batch_bytes are reported as bad_length
  // (bounding what a corrupt length field can make us allocate).
  batch_reader(const file& f, uint64_t start, uint64_t end, uint64_t max_batch_bytes);

  // On `batch`, `bytes` holds the batch (valid until the next call) and position() its start.
  result<frame_status> next(std::span<const uint8_t>& bytes);
  // Start of the batch last returned, or of the problem reported.
  uint64_t position() const { return _pos; }
  // Total bytes read from the file so far.
  uint64_t bytes_read() const { return _bytes_read; }

 private:
  result<bool> fill(size_t need);  // ensures `need` bytes at _pos are in the window

  const file& _f;
  uint64_t _pos;        // start of the current batch
  uint64_t _next;       // start of the next batch
  uint64_t _end;
  uint64_t _max_batch;
  std::vector<uint8_t> _buf;
  uint64_t _buf_pos = 0;  // file position of _buf[0]
  size_t _buf_len = 0;
  uint64_t _bytes_read = 0;
};

}  // namespace sluice::storage
