#pragma once
// File seam (DESIGN.md §2 "Seams for testing"): the few file operations storage performs, so
// tests can inject ENOSPC, torn writes and failing fsyncs (fault_file_system.h) under the real
// code. Records are written with pwrite(2) at a position the segment tracks; nothing is mmapped.
//
// Thread safety: a file_system may be shared by all shards (the POSIX one is stateless); a
// `file` is used by the thread that owns its segment, except fd()/pread which are safe anywhere
// (the network layer sendfile()s from fd while the owner appends).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace sluice::storage {

enum class open_mode {
  read_only,   // must exist
  read_write,  // must exist
  create,      // read-write, created empty if missing
};

class file {
 public:
  virtual ~file() = default;
  // Writes all of `data` at `offset`. On error a prefix may have reached the file (a torn
  // write): the caller restores its invariant by truncating back.
  virtual result<void> pwrite(uint64_t offset, std::span<const uint8_t> data) = 0;
  // Reads up to data.size() bytes at `offset`; returns the count (short only at end of file).
  virtual result<size_t> pread(uint64_t offset, std::span<uint8_t> data) const = 0;
  // fdatasync(2): data and the size are durable when this returns.
  virtual result<void> fsync() = 0;
  virtual result<void> truncate(uint64_t size) = 0;
  // Reserves [offset, offset+len) (fallocate(2)); the file size grows to cover it.
  virtual result<void> allocate(uint64_t offset, uint64_t len) = 0;
  virtual result<uint64_t> size() const = 0;
  // The OS descriptor, valid for the object's lifetime (for sendfile via file_range).
  virtual int fd() const = 0;
};

struct dir_entry {
  std::string name;
  bool is_dir = false;
};

class file_system {
 public:
  virtual ~file_system() = default;
  virtual result<std::shared_ptr<file>> open(const std::string& path, open_mode mode) = 0;
  // Atomically replaces `to` (rename(2)); works for directories too.
  virtual result<void> rename(const std::string& from, const std::string& to) = 0;
  virtual result<void> unlink(const std::string& path) = 0;
  // Creates the directory and its parents; success if it already exists.
  virtual result<void> mkdirs(const std::string& path) = 0;
  // Removes a directory and everything below it.
  virtual result<void> remove_all(const std::string& path) = 0;
  virtual result<std::vector<dir_entry>> list_dir(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;
  // Makes creations, renames and unlinks inside `path` durable.
  virtual result<void> fsync_dir(const std::string& path) = 0;
  virtual result<int64_t> mtime_ms(const std::string& path) = 0;
};

// The real thing. Stateless; one instance serves every shard.
class posix_file_system final : public file_system {
 public:
  result<std::shared_ptr<file>> open(const std::string& path, open_mode mode) override;
  result<void> rename(const std::string& from, const std::string& to) override;
  result<void> unlink(const std::string& path) override;
  result<void> mkdirs(const std::string& path) override;
  result<void> remove_all(const std::string& path) override;
  result<std::vector<dir_entry>> list_dir(const std::string& path) override;
  bool exists(const std::string& path) override;
  result<void> fsync_dir(const std::string& path) override;
  result<int64_t> mtime_ms(const std::string& path) override;

  static posix_file_system& instance();
};

// Writes `data` to `path` durably and atomically: path.tmp, fsync, rename, fsync dir.
result<void> write_file_atomic(file_system& fs, const std::string& path, std::span<const uint8_t> data);
// Reads a whole (small) file.
result<std::vector<uint8_t>> read_file(file_system& fs, const std::string& path);

}  // namespace sluice::storage
