#pragma once
// How `sluice consume` prints a record: "json" (one object per line) or a template in kcat's
// style: %t topic, %p partition, %o offset, %T timestamp (ms), %k key, %v value, %h headers
// (k=v joined by ','), %K key length, %V value length (-1 for null), %% a percent sign, and the
// escapes \n, \t, \\. Keys, values and headers are written byte-exact in templates.
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::cli {

// The parts of a record a format may print (a view of a consumed librdkafka message).
struct record_view {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;
  std::string_view timestamp_type;  // "create", "log_append" or "none"
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

record_view view_of(const rd_kafka_message_t* m);

class record_format {
 public:
  // false and `error` for an unknown %-directive or a dangling escape.
  bool parse(std::string_view spec, std::string& error);
  void append(const record_view& r, std::string& out) const;
  void append(const rd_kafka_message_t* m, std::string& out) const { append(view_of(m), out); }

 private:
  struct piece {
    char directive = 0;   // 0: literal text
    std::string literal;
  };
  bool _json = false;
  std::vector<piece> _pieces;
};

}  // namespace sluice::cli
