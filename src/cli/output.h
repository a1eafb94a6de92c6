#pragma once
// Output formats shared by the client commands: aligned text tables and JSON documents.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sluice::cli {

// A text table: a header row and rows of cells, printed with columns padded to their widest
// cell and separated by two spaces (the style of Kafka's and rpk's listings).
class table {
 public:
  explicit table(std::vector<std::string> header) : _rows{std::move(header)} {}
  void add(std::vector<std::string> row) { _rows.push_back(std::move(row)); }
  void print() const;

 private:
  std::vector<std::vector<std::string>> _rows;
};

// Prints `doc` on one line. Strings that are not valid UTF-8 have their bad bytes replaced by
// U+FFFD (JSON text must be Unicode); use a byte-exact format for binary data.
void print_json(const nlohmann::ordered_json& doc);
std::string to_json_line(const nlohmann::ordered_json& doc);

}  // namespace sluice::cli
