#pragma once
// A file_system decorator that injects the failures storage must survive: a full disk (ENOSPC
// once a byte budget is spent, possibly mid-write), torn writes (only a prefix lands, then
// EIO), failing fsyncs, and (for fast tests only) fsyncs that do nothing. Faults apply to paths
// containing `path_filter` (empty = all). Thread-safe; the wrapped file_system must outlive it.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "storage/file_system.h"

namespace sluice::storage {

class fault_file_system final : public file_system {
 public:
  explicit fault_file_system(file_system& inner) : _inner(inner) {}

  // Writes succeed until `bytes` more have been written; the write that crosses the budget
  // writes what fits and fails with ENOSPC, as does every later write. -1 = unlimited.
  void set_space_budget(int64_t bytes) { std::lock_guard g(_mu); _budget = bytes; }
  // The next write keeps only its first `keep_bytes` bytes and fails with EIO.
  void tear_next_write(uint64_t keep_bytes) { std::lock_guard g(_mu); _tear = static_cast<int64_t>(keep_bytes); }
  void fail_fsync(bool on) { _fail_fsync = on; }
  // fsync returns success without syncing (tests that only need the bookkeeping).
  void skip_fsync(bool on) { _skip_fsync = on; }
  void set_path_filter(std::string s) { std::lock_guard g(_mu); _filter = std::move(s); }
  void clear_faults();

  uint64_t bytes_written() const { return _bytes_written; }
  uint64_t fsyncs() const { return _fsyncs; }

  result<std::shared_ptr<file>> open(const std::string& path, open_mode mode) override;
  result<void> rename(const std::string& from, const std::string& to) override { return _inner.rename(from, to); }
  result<void> unlink(const std::string& path) override { return _inner.unlink(path); }
  result<void> mkdirs(const std::string& path) override { return _inner.mkdirs(path); }
  result<void> remove_all(const std::string& path) override { return _inner.remove_all(path); }
  result<std::vector<dir_entry>> list_dir(const std::string& path) override { return _inner.list_dir(path); }
  bool exists(const std::string& path) override { return _inner.exists(path); }
  result<void> fsync_dir(const std::string& path) override;
  result<int64_t> mtime_ms(const std::string& path) override { return _inner.mtime_ms(path); }

 private:
  friend class fault_file;
  // How many of `n` bytes a write to `path` may store; sets `ec` when it must fail.
  uint64_t admit_write(const std::string& path, uint64_t n, std::error_code& ec);
  bool applies(const std::string& path) const { return _filter.empty() || path.find(_filter) != std::string::npos; }

  file_system& _inner;
  std::mutex _mu;
  int64_t _budget = -1;
  int64_t _tear = -1;
  std::string _filter;
  std::atomic<bool> _fail_fsync{false};
  std::atomic<bool> _skip_fsync{false};
  std::atomic<uint64_t> _bytes_written{0};
  std::atomic<uint64_t> _fsyncs{0};
};

}  // namespace sluice::storage
