#include "storage/checkpoint_file.h"

#include <charconv>

#include <fmt/format.h>

#include "storage/errc.h"

namespace sluice::storage {
namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    lines.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool parse_i64(std::string_view s, int64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

result<checkpoint_entries> parse_checkpoint(std::string_view text, size_t fields) {
  auto lines = split_lines(text);
  if (lines.size() < 2) return errc::corrupt_checkpoint;
  int64_t version = 0, count = 0;
  if (!parse_i64(lines[0], version) || version != checkpoint_version) return errc::corrupt_checkpoint;
  if (!parse_i64(lines[1], count) || count < 0 || static_cast<size_t>(count) > lines.size() - 2)
    return errc::corrupt_checkpoint;
  checkpoint_entries out;
  out.reserve(static_cast<size_t>(count));
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    auto f = split_fields(lines[2 + i]);
    if (f.size() != fields) return errc::corrupt_checkpoint;
    out.push_back(std::move(f));
  }
  // Anything after the counted entries must be blank (a trailing newline).
  for (size_t i = 2 + static_cast<size_t>(count); i < lines.size(); ++i)
    if (!split_fields(lines[i]).empty()) return errc::corrupt_checkpoint;
  return out;
}

std::string format_checkpoint(const checkpoint_entries& entries) {
  std::string s = fmt::format("{}\n{}\n", checkpoint_version, entries.size());
  for (auto& e : entries) s += fmt::format("{}\n", fmt::join(e, " "));
  return s;
}

result<checkpoint_entries> read_checkpoint(file_system& fs, const std::string& path, size_t fields) {
  if (!fs.exists(path)) return checkpoint_entries{};
  auto bytes = read_file(fs, path);
  if (!bytes) return bytes.error();
  return parse_checkpoint(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), fields);
}

result<void> write_checkpoint(file_system& fs, const std::string& path, const checkpoint_entries& entries) {
  std::string s = format_checkpoint(entries);
  return write_file_atomic(fs, path, std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

result<offset_map> read_offset_checkpoint(file_system& fs, const std::string& path) {
  auto entries = read_checkpoint(fs, path, 3);
  if (!entries) return entries.error();
  offset_map out;
  for (auto& e : *entries) {
    int64_t partition = 0, offset = 0;
    if (!parse_i64(e[1], partition) || !parse_i64(e[2], offset) || partition < 0 || partition > INT32_MAX)
      return errc::corrupt_checkpoint;
    out[model::topic_partition{e[0], static_cast<int32_t>(partition)}] = offset;
  }
  return out;
}

result<void> write_offset_checkpoint(file_system& fs, const std::string& path, const offset_map& offsets) {
  checkpoint_entries entries;
  entries.reserve(offsets.size());
  for (auto& [tp, off] : offsets) entries.push_back({tp.topic, std::to_string(tp.partition), std::to_string(off)});
  return write_checkpoint(fs, path, entries);
}

}  // namespace sluice::storage
