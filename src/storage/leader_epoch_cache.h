#pragma once
// Leader epoch → first offset written in that epoch (KIP-101/279), persisted after every change
// to <partition dir>/leader-epoch-checkpoint as "epoch start_offset" lines
// (docs/format/leader-epoch-checkpoint.md). Entries have strictly increasing epochs and
// strictly increasing start offsets. Owned by one log; same thread contract.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "storage/file_system.h"

namespace sluice::storage {

struct epoch_entry {
  int32_t epoch = -1;
  int64_t start_offset = -1;
  bool operator==(const epoch_entry&) const = default;
};

inline constexpr int32_t undefined_epoch = -1;
inline constexpr int64_t undefined_epoch_offset = -1;

class leader_epoch_cache {
 public:
  leader_epoch_cache(file_system& fs, std::string path) : _fs(fs), _path(std::move(path)) {}

  // Reads the checkpoint; a missing file is an empty cache.
  result<void> load();

  // Records that `epoch` starts at `start_offset`. No-op when it repeats the latest epoch at a
  // later offset. Entries that would break monotonicity (epoch >= epoch or start >= start)
  // are removed first, as Kafka does. Negative epochs are ignored. Persists unless !persist.
  result<void> assign(int32_t epoch, int64_t start_offset, bool persist = true);

  std::optional<epoch_entry> latest() const;
  int32_t latest_epoch() const { return _entries.empty() ? undefined_epoch : _entries.back().epoch; }

  // OffsetForLeaderEpoch: {epoch, end offset} where end offset is the start of the next higher
  // epoch (or log_end_offset for the latest epoch). {-1, -1} when requested_epoch is
  // undefined or higher than every known epoch. If requested_epoch is older than every entry,
  // returns {requested_epoch, first start offset}.
  std::pair<int32_t, int64_t> end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const;

  // Epoch of the entry covering `offset` (largest start_offset <= offset).
  std::optional<int32_t> epoch_for_offset(int64_t offset) const;

  // Truncation removes entries with start_offset >= end_offset.
  result<void> truncate_from_end(int64_t end_offset);
  // Log start moved: drops entries wholly below start_offset; the last of them is kept and moved
  // up to start_offset.
  result<void> truncate_from_start(int64_t start_offset);
  result<void> clear();

  const std::vector<epoch_entry>& entries() const { return _entries; }
  const std::string& path() const { return _path; }
  result<void> flush();

  static result<std::vector<epoch_entry>> parse(std::string_view text);

 private:
  file_system& _fs;
  std::string _path;
  std::vector<epoch_entry> _entries;
};

}  // namespace sluice::storage
