#include "cli/output.h"

#include <algorithm>
#include <cstdio>

namespace sluice::cli {

void table::print() const {
  std::vector<size_t> widths;
  for (auto& row : _rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string line;
  for (auto& row : _rows) {
    line.clear();
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  }
}

std::string to_json_line(const nlohmann::ordered_json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void print_json(const nlohmann::ordered_json& doc) {
  std::string s = to_json_line(doc);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), stdout);
}

}  // namespace sluice::cli
