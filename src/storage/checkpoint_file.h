#pragma once
// Kafka's checkpoint text files (format: docs/format/checkpoints.md):
//   <version>\n<entry count>\n<entry>\n...   fields of an entry separated by one space.
// Used by recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// replication-offset-checkpoint (per log dir: "topic partition offset") and
// leader-epoch-checkpoint (per partition: "epoch start_offset"). Written atomically
// (file.tmp, fsync, rename, fsync dir), so a reader sees the old or the new file, never a mix.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/topic_partition.h"
#include "storage/file_system.h"

namespace sluice::storage {

inline constexpr int checkpoint_version = 0;
inline constexpr const char* recovery_point_checkpoint_name = "recovery-point-offset-checkpoint";
inline constexpr const char* log_start_offset_checkpoint_name = "log-start-offset-checkpoint";
inline constexpr const char* replication_offset_checkpoint_name = "replication-offset-checkpoint";
inline constexpr const char* leader_epoch_checkpoint_name = "leader-epoch-checkpoint";
inline constexpr const char* clean_shutdown_marker_name = ".kafka_cleanshutdown";

using checkpoint_entries = std::vector<std::vector<std::string>>;

// Parses checkpoint text; each entry must have exactly `fields` fields. Errors with
// errc::corrupt_checkpoint on a wrong version, count or field count.
result<checkpoint_entries> parse_checkpoint(std::string_view text, size_t fields);
std::string format_checkpoint(const checkpoint_entries& entries);

// A missing file reads as no entries.
result<checkpoint_entries> read_checkpoint(file_system& fs, const std::string& path, size_t fields);
result<void> write_checkpoint(file_system& fs, const std::string& path, const checkpoint_entries& entries);

// "topic partition offset" files.
using offset_map = std::map<model::topic_partition, int64_t>;
result<offset_map> read_offset_checkpoint(file_system& fs, const std::string& path);
result<void> write_offset_checkpoint(file_system& fs, const std::string& path, const offset_map& offsets);

}  // namespace sluice::storage
