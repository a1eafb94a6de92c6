#include "storage/log_dump.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/endian.h"
#include "model/control_record.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "storage/batch_reader.h"
#include "storage/checkpoint_file.h"
#include "storage/file_system.h"
#include "storage/index_file.h"
#include "storage/leader_epoch_cache.h"
#include "storage/producer_state.h"
#include "storage/segment.h"
#include "storage/txn_index.h"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
namespace L = model::batch_layout;

const char* codec_name(model::compression c) {
  switch (c) {
    case model::compression::none: return "none";
    case model::compression::gzip: return "gzip";
    case model::compression::snappy: return "snappy";
    case model::compression::lz4: return "lz4";
    case model::compression::zstd: return "zstd";
  }
  return "unknown";
}

// What a .log scan learns, used to check its indexes.
struct log_scan {
  bool ok = false;  // file could be read
  int64_t base = 0;
  int64_t next_offset = 0;
  uint64_t size = 0;
  std::map<uint64_t, std::pair<int64_t, int64_t>> batches;  // position -> {last offset, max ts so far}
  std::map<int64_t, bool> markers;  // offset of each transaction marker -> is ABORT
};

class dumper {
 public:
  dumper(const dump_options& o, std::FILE* out) : _o(o), _out(out) {}

  template <typename... A>
  void line(fmt::format_string<A...> f, A&&... a) {
    if (!_o.quiet) fmt::print(_out, "{}\n", fmt::format(f, std::forward<A>(a)...));
  }
  template <typename... A>
  void problem(const std::string& file, fmt::format_string<A...> f, A&&... a) {
    ++_s.problems;
    fmt::print(_out, "ERROR: {}: {}\n", file, fmt::format(f, std::forward<A>(a)...));
  }

  log_scan dump_log(const std::string& path);
  void dump_offset_index(const std::string& path, const log_scan* scan);
  void dump_time_index(const std::string& path, const log_scan* scan);
  void dump_epochs(const std::string& path, std::optional<int64_t> log_end);
  void dump_offset_checkpoint(const std::string& path);
  void dump_producer_snapshot(const std::string& path);
  void dump_txn_index(const std::string& path, const log_scan* scan);
  void dump_dir(const std::string& path);
  void dump_any(const std::string& path);
  dump_summary summary() const { return _s; }

 private:
  void print_records(const model::batch_view& v);
  log_scan scan_for(const std::string& log_path);

  dump_options _o;
  std::FILE* _out;
  dump_summary _s;
};

log_scan dumper::dump_log(const std::string& path) {
  log_scan scan;
  ++_s.files;
  std::string name = fs::path(path).filename().string();
  auto base = parse_segment_file_name(name, segment::log_suffix);
  if (!base) problem(path, "file name is not <20-digit base offset>.log");
  scan.base = base.value_or(0);
  line("Dumping {}", path);
  line("Starting offset: {}", scan.base);
  auto& pfs = posix_file_system::instance();
  auto f = pfs.open(path, open_mode::read_only);
  if (!f) {
    problem(path, "cannot open: {}", f.error().message());
    return scan;
  }
  auto size = (*f)->size();
  if (!size) {
    problem(path, "cannot stat: {}", size.error().message());
    return scan;
  }
  scan.size = *size;
  batch_reader r(**f, 0, *size, static_cast<uint64_t>(INT32_MAX) + L::log_overhead);
  int64_t expected = scan.base;
  int64_t max_ts = -1;
  while (true) {
    std::span<const uint8_t> bytes;
    auto st = r.next(bytes);
    if (!st) {
      problem(path, "read error at position {}: {}", r.position(), st.error().message());
      return scan;
    }
    if (*st == frame_status::end) break;
    if (*st != frame_status::batch) {
      const char* why = *st == frame_status::truncated ? "partial batch" : *st == frame_status::bad_magic ? "bad magic" : "bad batch length";
      problem(path, "position {}: {} ({} bytes to end of file not valid batches)", r.position(), why,
              *size - r.position());
      break;
    }
    model::batch_view v(bytes);
    ++_s.batches;
    auto valid = model::validate_batch(bytes);
    line("baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {} producerId: {} producerEpoch: {} "
         "partitionLeaderEpoch: {} isTransactional: {} isControl: {} position: {} {}: {} size: {} magic: {} "
         "compresscodec: {} crc: {} isvalid: {}",
         v.base_offset(), v.last_offset(), v.records_count(), v.base_sequence(),
         v.base_sequence() < 0 ? -1 : v.base_sequence() + v.last_offset_delta(), v.producer_id(), v.producer_epoch(),
         v.partition_leader_epoch(), v.is_transactional(), v.is_control(), r.position(),
         v.log_append_time() ? "LogAppendTime" : "CreateTime", v.max_timestamp(), bytes.size(),
         static_cast<int>(v.magic()), codec_name(v.codec()), v.crc(), valid.has_value());
    if (!valid) problem(path, "batch at position {} (offset {}): {}", r.position(), v.base_offset(), valid.error().message());
    if (v.is_control()) {
      // Kafka's DumpLogSegments prints the marker of a control batch.
      if (auto m = model::parse_txn_marker(v)) {
        line("| offset: {} endTxnMarker: {} coordinatorEpoch: {}", v.base_offset(), m->commit() ? "COMMIT" : "ABORT",
             m->coordinator_epoch);
        scan.markers[v.base_offset()] = !m->commit();
      } else {
        line("| offset: {} control record of another type", v.base_offset());
      }
    }
    if (v.base_offset() < expected)
      problem(path, "batch at position {}: base offset {} below expected {}", r.position(), v.base_offset(), expected);
    if (v.last_offset() - scan.base > INT32_MAX || v.base_offset() < scan.base)
      problem(path, "batch at position {}: offsets {}..{} outside the segment's range", r.position(), v.base_offset(),
              v.last_offset());
    if (_o.records && !_o.quiet) print_records(v);
    max_ts = std::max(max_ts, v.max_timestamp());
    scan.batches[r.position()] = {v.last_offset(), max_ts};
    expected = v.last_offset() + 1;
  }
  scan.next_offset = expected;
  scan.ok = true;
  return scan;
}

void dumper::print_records(const model::batch_view& v) {
  if (v.codec() != model::compression::none) {
    line("| (compressed records: not shown)");
    return;
  }
  auto recs = model::decode_records(v.bytes().data(), v.bytes().size());
  if (!recs) return;  // validation already reported it
  int32_t i = 0;
  for (auto& r : *recs) {
    std::vector<std::string> keys;
    for (auto& h : r.headers) keys.push_back(h.key);
    line("| offset: {} {}: {} keySize: {} valueSize: {} sequence: {} headerKeys: [{}]", r.offset,
         v.log_append_time() ? "LogAppendTime" : "CreateTime", v.log_append_time() ? v.max_timestamp() : r.timestamp_ms,
         r.key ? static_cast<int64_t>(r.key->size()) : -1, r.value ? static_cast<int64_t>(r.value->size()) : -1,
         v.base_sequence() < 0 ? -1 : v.base_sequence() + i, fmt::join(keys, ","));
    ++i;
  }
}

log_scan dumper::scan_for(const std::string& log_path) {
  if (!fs::exists(log_path)) return {};
  dumper quiet({false, true}, _out);
  auto s = quiet.dump_log(log_path);
  if (quiet._s.problems > 0) s.ok = false;  // reported when the .log itself is dumped
  return s;
}

namespace {
std::vector<uint8_t> slurp(const std::string& path, std::string& err) {
  auto b = read_file(posix_file_system::instance(), path);
  if (!b) {
    err = b.error().message();
    return {};
  }
  return std::move(*b);
}
// Entries before the all-zero preallocated tail.
size_t live_entries(const std::vector<uint8_t>& b, size_t entry_size) {
  size_t n = b.size() / entry_size;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* e = b.data() + i * entry_size;
    if (std::all_of(e, e + entry_size, [](uint8_t x) { return x == 0; }) && i > 0) return i;
    if (i == 0 && std::all_of(e, e + entry_size, [](uint8_t x) { return x == 0; })) return 0;
  }
  return n;
}
}  // namespace

void dumper::dump_offset_index(const std::string& path, const log_scan* scan) {
  ++_s.files;
  std::string name = fs::path(path).filename().string();
  auto base = parse_segment_file_name(name, segment::index_suffix);
  if (!base) problem(path, "file name is not <20-digit base offset>.index");
  line("Dumping {}", path);
  std::string err;
  auto b = slurp(path, err);
  if (!err.empty()) return problem(path, "cannot read: {}", err);
  if (b.size() % offset_index::entry_size != 0)
    problem(path, "size {} is not a multiple of {}", b.size(), offset_index::entry_size);
  size_t n = live_entries(b, offset_index::entry_size);
  int64_t prev_off = -1;
  int64_t prev_pos = -1;
  for (size_t i = 0; i < n; ++i) {
    int32_t rel = load_be<int32_t>(b.data() + i * 8);
    uint32_t pos = load_be<uint32_t>(b.data() + i * 8 + 4);
    int64_t off = base.value_or(0) + rel;
    ++_s.index_entries;
    line("offset: {} position: {}", off, pos);
    if (rel < 0) problem(path, "entry {}: negative relative offset {}", i, rel);
    if (off <= prev_off || static_cast<int64_t>(pos) <= prev_pos)
      problem(path, "entry {}: offset {} position {} not above the previous entry", i, off, pos);
    if (scan && scan->ok) {
      auto it = scan->batches.find(pos);
      if (it == scan->batches.end())
        problem(path, "entry {}: position {} is not the start of a batch", i, pos);
      else if (it->second.first != off)
        problem(path, "Index offset {}, log offset {} mismatch at position {}", off, it->second.first, pos);
    }
    prev_off = off;
    prev_pos = pos;
  }
  if (n * offset_index::entry_size < b.size())
    line("(preallocated tail: {} zero bytes)", b.size() - n * offset_index::entry_size);
}

void dumper::dump_time_index(const std::string& path, const log_scan* scan) {
  ++_s.files;
  std::string name = fs::path(path).filename().string();
  auto base = parse_segment_file_name(name, segment::time_index_suffix);
  if (!base) problem(path, "file name is not <20-digit base offset>.timeindex");
  line("Dumping {}", path);
  std::string err;
  auto b = slurp(path, err);
  if (!err.empty()) return problem(path, "cannot read: {}", err);
  if (b.size() % time_index::entry_size != 0)
    problem(path, "size {} is not a multiple of {}", b.size(), time_index::entry_size);
  size_t n = live_entries(b, time_index::entry_size);
  int64_t prev_ts = -1, prev_off = -1;
  std::map<int64_t, int64_t> last_to_maxts;  // last offset -> max timestamp through that batch
  if (scan && scan->ok)
    for (auto& [pos, v] : scan->batches) last_to_maxts[v.first] = v.second;
  for (size_t i = 0; i < n; ++i) {
    int64_t ts = load_be<int64_t>(b.data() + i * 12);
    int32_t rel = load_be<int32_t>(b.data() + i * 12 + 8);
    int64_t off = base.value_or(0) + rel;
    ++_s.index_entries;
    line("timestamp: {} offset: {}", ts, off);
    if (rel < 0) problem(path, "entry {}: negative relative offset {}", i, rel);
    if (ts <= prev_ts || off < prev_off)
      problem(path, "entry {}: timestamp {} offset {} not above the previous entry", i, ts, off);
    if (scan && scan->ok) {
      auto it = last_to_maxts.find(off);
      if (it == last_to_maxts.end())
        problem(path, "entry {}: offset {} is not the last offset of a batch", i, off);
      else if (it->second != ts)
        problem(path, "entry {}: timestamp {} but the largest timestamp through offset {} is {}", i, ts, off,
                it->second);
    }
    prev_ts = ts;
    prev_off = off;
  }
  if (n * time_index::entry_size < b.size())
    line("(preallocated tail: {} zero bytes)", b.size() - n * time_index::entry_size);
}

void dumper::dump_epochs(const std::string& path, std::optional<int64_t> log_end) {
  ++_s.files;
  line("Dumping {}", path);
  std::string err;
  auto b = slurp(path, err);
  if (!err.empty()) return problem(path, "cannot read: {}", err);
  auto entries = leader_epoch_cache::parse(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  if (!entries) return problem(path, "not a valid leader-epoch-checkpoint (version 0, count, increasing epoch/offset lines)");
  for (auto& e : *entries) {
    line("epoch: {} startOffset: {}", e.epoch, e.start_offset);
    if (log_end && e.start_offset > *log_end)
      problem(path, "epoch {} starts at {} beyond the log end offset {}", e.epoch, e.start_offset, *log_end);
  }
}

void dumper::dump_producer_snapshot(const std::string& path) {
  ++_s.files;
  line("Dumping {}", path);
  std::string err;
  auto b = slurp(path, err);
  if (!err.empty()) return problem(path, "cannot read: {}", err);
  auto producers = producer_state_manager::decode_snapshot(b);
  if (!producers) return problem(path, "not a valid producer snapshot: {}", producers.error().message());
  std::vector<const producer_entry*> sorted;
  for (auto& [id, e] : *producers) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->producer_id < y->producer_id; });
  for (auto* e : sorted) {
    for (auto& bt : e->batches)
      line("producerId: {} producerEpoch: {} firstSequence: {} lastSequence: {} firstOffset: {} lastOffset: {} "
           "timestamp: {}",
           e->producer_id, e->epoch, bt.first_seq, bt.last_seq, bt.first_offset, bt.last_offset, bt.max_timestamp);
    if (e->batches.empty() || e->current_txn_first_offset >= 0 || e->coordinator_epoch >= 0)
      line("producerId: {} producerEpoch: {} coordinatorEpoch: {} currentTxnFirstOffset: {} timestamp: {}",
           e->producer_id, e->epoch, e->coordinator_epoch, e->current_txn_first_offset, e->last_timestamp);
  }
}

void dumper::dump_txn_index(const std::string& path, const log_scan* scan) {
  ++_s.files;
  line("Dumping {}", path);
  std::string err;
  auto b = slurp(path, err);
  if (!err.empty()) return problem(path, "cannot read: {}", err);
  if (b.size() % txn_index::entry_size != 0)
    problem(path, "size {} is not a multiple of {} (torn last entry; cut at startup)", b.size(), txn_index::entry_size);
  auto entries = txn_index::decode(b);
  if (!entries) return problem(path, "not a valid aborted-transaction index: {}", entries.error().message());
  for (const auto& e : *entries) {
    ++_s.index_entries;
    line("version: {} producerId: {} firstOffset: {} lastOffset: {} lastStableOffset: {}", txn_index::version,
         e.producer_id, e.first_offset, e.last_offset, e.last_stable_offset);
    if (!scan) continue;
    auto m = scan->markers.find(e.last_offset);
    if (m == scan->markers.end() || !m->second)
      problem(path, "lastOffset {} is not an ABORT marker of the segment", e.last_offset);
  }
}

void dumper::dump_offset_checkpoint(const std::string& path) {
  ++_s.files;
  line("Dumping {}", path);
  auto m = read_offset_checkpoint(posix_file_system::instance(), path);
  if (!m) return problem(path, "not a valid offset checkpoint: {}", m.error().message());
  for (auto& [tp, off] : *m) line("topic: {} partition: {} offset: {}", tp.topic, tp.partition, off);
}

void dumper::dump_dir(const std::string& path) {
  std::vector<int64_t> bases;
  std::vector<std::string> others;
  for (auto& e : fs::directory_iterator(path)) {
    std::string n = e.path().filename().string();
    if (e.is_directory()) continue;
    if (auto b = parse_segment_file_name(n, segment::log_suffix)) bases.push_back(*b);
    else others.push_back(n);
  }
  std::sort(bases.begin(), bases.end());
  std::sort(others.begin(), others.end());
  std::optional<int64_t> prev_next;
  int64_t log_end = 0;
  for (int64_t b : bases) {
    std::string lp = path + "/" + segment_file_name(b, segment::log_suffix);
    auto scan = dump_log(lp);
    if (prev_next && b < *prev_next)
      problem(lp, "segment base offset {} below the previous segment's next offset {}", b, *prev_next);
    std::string ip = path + "/" + segment_file_name(b, segment::index_suffix);
    std::string tp = path + "/" + segment_file_name(b, segment::time_index_suffix);
    if (fs::exists(ip)) dump_offset_index(ip, &scan);
    else line("(no {}: rebuilt at startup)", fs::path(ip).filename().string());
    if (fs::exists(tp)) dump_time_index(tp, &scan);
    std::string xp = path + "/" + segment_file_name(b, segment::txn_index_suffix);
    if (fs::exists(xp)) dump_txn_index(xp, &scan);
    prev_next = scan.next_offset;
    log_end = scan.next_offset;
  }
  for (auto& n : others) {
    std::string p = path + "/" + n;
    if (n == leader_epoch_checkpoint_name) dump_epochs(p, log_end);
    else if (n == recovery_point_checkpoint_name || n == log_start_offset_checkpoint_name ||
             n == replication_offset_checkpoint_name)
      dump_offset_checkpoint(p);
    else if (parse_segment_file_name(n, segment::index_suffix) || parse_segment_file_name(n, segment::time_index_suffix) ||
             parse_segment_file_name(n, segment::txn_index_suffix)) {
      if (!fs::exists(path + "/" + n.substr(0, 20) + ".log")) problem(p, "index without a .log file");
    } else if (auto off = parse_segment_file_name(n, producer_snapshot_suffix)) {
      dump_producer_snapshot(p);
      if (*off > log_end) problem(p, "snapshot offset {} beyond the log end offset {}", *off, log_end);
    } else
      line("(skipping {})", n);
  }
}

void dumper::dump_any(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return dump_dir(path);
  if (!fs::exists(path, ec)) return problem(path, "no such file or directory");
  std::string n = fs::path(path).filename().string();
  std::string stem = (fs::path(path).parent_path() / n.substr(0, std::min<size_t>(20, n.size()))).string();
  if (n.ends_with(".log")) {
    dump_log(path);
  } else if (n.ends_with(".index")) {
    auto scan = scan_for(stem + ".log");
    dump_offset_index(path, scan.ok ? &scan : nullptr);
  } else if (n.ends_with(".timeindex")) {
    auto scan = scan_for(stem + ".log");
    dump_time_index(path, scan.ok ? &scan : nullptr);
  } else if (n.ends_with(".txnindex")) {
    auto scan = scan_for(stem + ".log");
    dump_txn_index(path, scan.ok ? &scan : nullptr);
  } else if (n == leader_epoch_checkpoint_name) {
    dump_epochs(path, std::nullopt);
  } else if (n == recovery_point_checkpoint_name || n == log_start_offset_checkpoint_name ||
             n == replication_offset_checkpoint_name) {
    dump_offset_checkpoint(path);
  } else if (n.ends_with(producer_snapshot_suffix)) {
    dump_producer_snapshot(path);
  } else {
    problem(path, "unknown file type (expected .log, .index, .timeindex, .txnindex, .snapshot, a checkpoint file or a directory)");
  }
}

}  // namespace

dump_summary dump_path(const std::string& path, const dump_options& opts, std::FILE* out) {
  dumper d(opts, out);
  d.dump_any(path);
  auto s = d.summary();
  fmt::print(out, "Summary: {} file(s), {} batch(es), {} index entr{}, {} problem(s)\n", s.files, s.batches,
             s.index_entries, s.index_entries == 1 ? "y" : "ies", s.problems);
  return s;
}

}  // namespace sluice::storage
