#pragma once
// The broker's configuration: Kafka's broker config names with Kafka's defaults (deviations are
// listed in docs/configuration.md). Values are held as validated strings and read through typed
// getters; the table of definitions is the single source for parsing, validation, the
// DescribeConfigs answer and the docs.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace sluice::server {

enum class config_type { boolean, int32, int64, string, list, password };

struct config_definition {
  std::string name;
  config_type type;
  std::optional<std::string> default_value;  // nullopt = null (no default)
  std::string doc;
  int64_t min = INT64_MIN;
  int64_t max = INT64_MAX;
  std::vector<std::string> allowed;  // for enumerated strings; empty = any
  bool dynamic = false;              // may be changed at runtime (IncrementalAlterConfigs)
  bool effective = true;             // false: accepted for compatibility, has no effect (documented)
};

const std::vector<config_definition>& broker_config_definitions();
const config_definition* find_broker_config(const std::string& name);

// Checks `value` against the definition; returns an explanation on failure.
std::optional<std::string> validate_config_value(const config_definition& def, const std::string& value);

class broker_config {
 public:
  // Applies `key=value` settings in order (properties file first, then --set flags). Unknown
  // keys and invalid values are errors naming the key; nothing is applied on error.
  static result<broker_config> from_settings(const std::vector<std::pair<std::string, std::string>>& settings,
                                             std::string* error);
  // Parses a Java-style .properties file into ordered key/value pairs (# and ! comments,
  // `key=value` or `key: value`, backslash line continuation).
  static std::optional<std::vector<std::pair<std::string, std::string>>> parse_properties(const std::string& text,
                                                                                          std::string* error);

  bool has(const std::string& name) const;  // set explicitly or has a non-null default
  bool is_default(const std::string& name) const { return !_explicit.contains(name); }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_string(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  std::vector<std::string> get_list(const std::string& name) const;

  // Dynamic update (IncrementalAlterConfigs on a broker). nullopt value = reset to default.
  result<void> set_dynamic(const std::string& name, const std::optional<std::string>& value, std::string* error);

  // Derived helpers.
  std::vector<std::string> log_dirs() const;
  int64_t log_retention_ms() const;  // log.retention.ms > minutes > hours
  int64_t log_roll_ms() const;       // log.roll.ms > hours
  int64_t log_roll_jitter_ms() const;

 private:
  std::map<std::string, std::string> _values;  // explicit settings only
  std::map<std::string, bool> _explicit;
};

enum class config_errc { unknown_key = 1, invalid_value = 2, not_dynamic = 3 };
const std::error_category& config_category();
inline std::error_code make_error_code(config_errc e) { return {static_cast<int>(e), config_category()}; }

}  // namespace sluice::server

template <>
struct std::is_error_code_enum<sluice::server::config_errc> : std::true_type {};
