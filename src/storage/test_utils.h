#pragma once
// Helpers shared by the storage unit tests (not part of the library).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "model/record_batch_builder.h"
#include "storage/fault_file_system.h"
#include "storage/file_system.h"
#include "storage/log.h"

namespace sluice::storage::test {

// A fresh directory under $TMPDIR, removed when the object dies.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return _path; }
  std::string sub(const std::string& name) const { return _path + "/" + name; }

 private:
  std::string _path;
};

// An uncompressed batch of `records` records of `value_bytes` bytes each; record i has
// timestamp ts + i.
std::vector<uint8_t> make_batch(int records, size_t value_bytes, int64_t ts = 1'000, int64_t base_offset = 0,
                                int32_t epoch = -1);

// Sets a batch's max timestamp and recomputes its CRC.
void set_max_timestamp(std::vector<uint8_t>& batch, int64_t ts);

// A log in `dir` on the posix file system (or `fs`) with a manual clock.
struct log_fixture {
  explicit log_fixture(const std::string& dir, log_config cfg = {}, file_system* fs = nullptr);
  result<void> reopen(bool clean_shutdown = false, int64_t recovery_point = -1);
  log& operator*() { return *l; }
  log* operator->() { return l.get(); }
  // Appends make_batch(...) and returns its base offset (asserts success).
  int64_t append(int records = 10, size_t value_bytes = 100, int64_t ts = 1'000);
  result<append_result> append_batch(std::vector<uint8_t> batch, int32_t epoch) { return l->append(batch, epoch); }

  std::string dir;
  log_config cfg;
  file_system* fs;
  manual_clock clock;
  std::unique_ptr<log> l;
};

// Segments of 4 KiB with an index entry per batch and immediate file deletion: a few batches roll
// a segment (producer-state and transaction tests).
log_config small_segments();

// A batch of `records` records of `value_bytes` bytes each from producer `id` at `epoch`, first
// sequence `seq`; `transactional` sets the transactional attribute. Timestamps: `ts_ms`.
std::vector<uint8_t> producer_batch(int64_t id, int16_t epoch, int32_t seq, int records, size_t value_bytes,
                                    int64_t ts_ms, bool transactional = false);

// The names of the files in `dir` ending in `extension` (".snapshot"), sorted.
std::vector<std::string> files_with_extension(const std::string& dir, const std::string& extension);

std::vector<uint8_t> read_all(const std::string& path);
void write_all(const std::string& path, const std::vector<uint8_t>& bytes);
uint64_t file_size(const std::string& path);
// Reads the bytes a read_result's ranges describe.
std::vector<uint8_t> range_bytes(const read_result& r);

}  // namespace sluice::storage::test
