#include "storage/leader_epoch_cache.h"

#include <algorithm>
#include <charconv>

#include "storage/checkpoint_file.h"
#include "storage/errc.h"

namespace sluice::storage {

result<std::vector<epoch_entry>> leader_epoch_cache::parse(std::string_view text) {
  auto entries = parse_checkpoint(text, 2);
  if (!entries) return entries.error();
  std::vector<epoch_entry> out;
  for (auto& e : *entries) {
    epoch_entry x;
    auto r1 = std::from_chars(e[0].data(), e[0].data() + e[0].size(), x.epoch);
    auto r2 = std::from_chars(e[1].data(), e[1].data() + e[1].size(), x.start_offset);
    if (r1.ec != std::errc() || r2.ec != std::errc() || r1.ptr != e[0].data() + e[0].size() ||
        r2.ptr != e[1].data() + e[1].size() || x.epoch < 0 || x.start_offset < 0)
      return errc::corrupt_checkpoint;
    if (!out.empty() && (x.epoch <= out.back().epoch || x.start_offset < out.back().start_offset))
      return errc::corrupt_checkpoint;
    out.push_back(x);
  }
  return out;
}

result<void> leader_epoch_cache::load() {
  auto entries = read_checkpoint(_fs, _path, 2);
  if (!entries) return entries.error();
  auto text = format_checkpoint(*entries);
  auto parsed = parse(text);
  if (!parsed) return parsed.error();
  _entries = std::move(*parsed);
  return ok();
}

result<void> leader_epoch_cache::flush() {
  checkpoint_entries e;
  e.reserve(_entries.size());
  for (auto& x : _entries) e.push_back({std::to_string(x.epoch), std::to_string(x.start_offset)});
  return write_checkpoint(_fs, _path, e);
}

std::optional<epoch_entry> leader_epoch_cache::latest() const {
  if (_entries.empty()) return std::nullopt;
  return _entries.back();
}

result<void> leader_epoch_cache::assign(int32_t epoch, int64_t start_offset, bool persist) {
  if (epoch < 0 || start_offset < 0) return ok();
  if (!_entries.empty() && epoch == _entries.back().epoch && start_offset >= _entries.back().start_offset) return ok();
  std::erase_if(_entries, [&](const epoch_entry& e) { return e.epoch >= epoch || e.start_offset >= start_offset; });
  _entries.push_back({epoch, start_offset});
  return persist ? flush() : ok();
}

std::pair<int32_t, int64_t> leader_epoch_cache::end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const {
  if (requested_epoch == undefined_epoch || _entries.empty()) return {undefined_epoch, undefined_epoch_offset};
  if (requested_epoch == _entries.back().epoch) return {requested_epoch, log_end_offset};
  auto higher = std::upper_bound(_entries.begin(), _entries.end(), requested_epoch,
                                 [](int32_t e, const epoch_entry& x) { return e < x.epoch; });
  if (higher == _entries.end()) return {undefined_epoch, undefined_epoch_offset};
  if (higher == _entries.begin()) return {requested_epoch, higher->start_offset};
  return {std::prev(higher)->epoch, higher->start_offset};
}

std::optional<int32_t> leader_epoch_cache::epoch_for_offset(int64_t offset) const {
  auto it = std::upper_bound(_entries.begin(), _entries.end(), offset,
                             [](int64_t o, const epoch_entry& x) { return o < x.start_offset; });
  if (it == _entries.begin()) return std::nullopt;
  return std::prev(it)->epoch;
}

result<void> leader_epoch_cache::truncate_from_end(int64_t end_offset) {
  if (end_offset < 0 || _entries.empty() || _entries.back().start_offset < end_offset) return ok();
  std::erase_if(_entries, [&](const epoch_entry& e) { return e.start_offset >= end_offset; });
  return flush();
}

result<void> leader_epoch_cache::truncate_from_start(int64_t start_offset) {
  if (start_offset < 0 || _entries.empty() || _entries.front().start_offset >= start_offset) return ok();
  // Keep the last entry that starts at or below start_offset, moved up to start_offset.
  auto first_above = std::upper_bound(_entries.begin(), _entries.end(), start_offset,
                                      [](int64_t o, const epoch_entry& x) { return o < x.start_offset; });
  epoch_entry kept = *std::prev(first_above);
  kept.start_offset = start_offset;
  _entries.erase(_entries.begin(), first_above);
  _entries.insert(_entries.begin(), kept);
  return flush();
}

result<void> leader_epoch_cache::clear() {
  _entries.clear();
  return flush();
}

}  // namespace sluice::storage
