#pragma once
// `sluice log dump`: prints and verifies partition files exactly as docs/format/*.md describe
// them. Accepts a .log, .index, .timeindex or .txnindex segment file, a .snapshot, a leader-epoch-checkpoint, one of
// the per-dir checkpoint files, or a partition directory (every file in it, plus cross-segment
// offset continuity). Output lines (one per batch / entry) follow Kafka's DumpLogSegments
// wording; every problem is one line starting "ERROR: ".
#include <cstdint>
#include <cstdio>
#include <string>

namespace sluice::storage {

struct dump_options {
  bool records = false;  // also print each record of uncompressed batches
  bool quiet = false;    // print only problems and the summary
};

struct dump_summary {
  uint64_t files = 0;
  uint64_t batches = 0;
  uint64_t index_entries = 0;
  uint64_t problems = 0;
};

// Dumps `path` to `out`; returns the summary (problems > 0 means verification failed).
dump_summary dump_path(const std::string& path, const dump_options& opts, std::FILE* out);

}  // namespace sluice::storage
