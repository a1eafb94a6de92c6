#pragma once
// Aborted-transaction index of one segment: <base offset, 20 digits>.txnindex
// (docs/format/txnindex.md; Kafka's TransactionIndex, byte for byte). One 34-byte entry per
// ABORT marker in the segment, in marker-offset order. The file is created with the first
// entry (most segments have none) and its entries are kept in memory (aborts are rare).
//
// Durability: entries are written with pwrite as the marker is appended and fsynced with the
// segment's other indexes; recovery rebuilds the index of every segment it reads in full from
// the log (storage/log.cc), so a lost tail costs nothing.
//
// Thread contract: owned by its segment, used on the log's shard.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "storage/file_system.h"

namespace sluice::storage {

struct aborted_txn {
  int64_t producer_id = -1;
  int64_t first_offset = -1;        // first offset of the transaction on this partition
  int64_t last_offset = -1;         // offset of its ABORT marker
  int64_t last_stable_offset = -1;  // the partition's LSO once this transaction was aborted
  bool operator==(const aborted_txn&) const = default;
};

class txn_index {
 public:
  static constexpr int16_t version = 0;
  static constexpr size_t entry_size = 34;

  txn_index(file_system& fs, std::string path) : _fs(fs), _path(std::move(path)) {}

  // Reads the file if present. A trailing partial entry (torn write) is cut; an entry with a
  // version other than 0 or offsets out of order makes the whole index invalid
  // (errc::corrupt_checkpoint), and the caller rebuilds it.
  result<void> load();
  // Appends one entry (creating the file). REQUIRES: e.last_offset above the last entry's.
  result<void> append(const aborted_txn& e);
  // Removes the entries whose marker is at or above `offset` (Kafka's truncateTo).
  result<void> truncate_to(int64_t offset);
  // Removes every entry and the file (before a rebuild from the log).
  result<void> reset();
  result<void> flush();
  void close() { _file.reset(); }

  // Kafka's collectAbortedTxns: appends the entries with last_offset >= fetch_offset and
  // first_offset < upper_bound_offset; returns true when an entry's last stable offset reached
  // upper_bound_offset (no later segment can hold a transaction overlapping the range).
  bool collect(int64_t fetch_offset, int64_t upper_bound_offset, std::vector<aborted_txn>& out) const;

  const std::vector<aborted_txn>& entries() const { return _entries; }
  const std::string& path() const { return _path; }

  static void encode(const aborted_txn& e, uint8_t* out);
  // Decodes whole entries; errc::corrupt_checkpoint on a bad version or out-of-order offsets.
  static result<std::vector<aborted_txn>> decode(std::span<const uint8_t> bytes);

 private:
  result<void> open_file();

  file_system& _fs;
  std::string _path;
  std::shared_ptr<file> _file;  // opened on first write
  std::vector<aborted_txn> _entries;
};

}  // namespace sluice::storage
