#include "cli/record_format.h"

#include <nlohmann/json.hpp>

#include "cli/output.h"

namespace sluice::cli {

record_view view_of(const rd_kafka_message_t* m) {
  record_view r;
  const char* topic = rd_kafka_topic_name(m->rkt);
  r.topic = topic ? topic : "";
  r.partition = m->partition;
  r.offset = m->offset;
  rd_kafka_timestamp_type_t type;
  r.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  r.timestamp_type = type == RD_KAFKA_TIMESTAMP_CREATE_TIME        ? "create"
                     : type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "log_append"
                                                                   : "none";
  if (m->key) r.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) r.value = std::string_view(static_cast<const char*>(m->payload), m->len);
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
    const char* name;
    const void* val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      std::optional<std::string_view> v;
      if (val) v = std::string_view(static_cast<const char*>(val), size);
      r.headers.emplace_back(name, v);
    }
  }
  return r;
}

bool record_format::parse(std::string_view spec, std::string& error) {
  _pieces.clear();
  _json = spec == "json";
  if (_json) return true;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) _pieces.push_back({0, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (c == '\\') {
      if (i + 1 >= spec.size()) {
        error = "the format ends with a lone '\\'";
        return false;
      }
      char e = spec[++i];
      if (e == 'n') literal += '\n';
      else if (e == 't') literal += '\t';
      else if (e == '\\') literal += '\\';
      else {
        error = std::string("unknown escape '\\") + e + "' (known: \\n \\t \\\\)";
        return false;
      }
    } else if (c == '%') {
      if (i + 1 >= spec.size()) {
        error = "the format ends with a lone '%'";
        return false;
      }
      char d = spec[++i];
      if (d == '%') {
        literal += '%';
        continue;
      }
      if (std::string_view("tpoTkvhKV").find(d) == std::string_view::npos) {
        error = std::string("unknown directive '%") + d + "' (known: %t %p %o %T %k %v %h %K %V %%)";
        return false;
      }
      flush();
      _pieces.push_back({d, {}});
    } else {
      literal += c;
    }
  }
  flush();
  return true;
}

void record_format::append(const record_view& r, std::string& out) const {
  if (_json) {
    using json = nlohmann::ordered_json;
    auto opt = [](const std::optional<std::string_view>& s) { return s ? json(std::string(*s)) : json(nullptr); };
    json headers = json::array();
    for (auto& [k, v] : r.headers) headers.push_back({{"key", std::string(k)}, {"value", opt(v)}});
    json doc = {{"topic", std::string(r.topic)}, {"partition", r.partition}, {"offset", r.offset},
                {"timestamp", r.timestamp_ms}, {"timestamp_type", std::string(r.timestamp_type)},
                {"key", opt(r.key)}, {"value", opt(r.value)}, {"headers", headers}};
    out += to_json_line(doc);
    out += '\n';
    return;
  }
  for (const auto& p : _pieces) {
    switch (p.directive) {
      case 0: out += p.literal; break;
      case 't': out += r.topic; break;
      case 'p': out += std::to_string(r.partition); break;
      case 'o': out += std::to_string(r.offset); break;
      case 'T': out += std::to_string(r.timestamp_ms); break;
      case 'k': if (r.key) out += *r.key; break;
      case 'v': if (r.value) out += *r.value; break;
      case 'K': out += r.key ? std::to_string(r.key->size()) : "-1"; break;
      case 'V': out += r.value ? std::to_string(r.value->size()) : "-1"; break;
      case 'h':
        for (size_t i = 0; i < r.headers.size(); ++i) {
          if (i) out += ',';
          out += r.headers[i].first;
          out += '=';
          if (r.headers[i].second) out += *r.headers[i].second;
        }
        break;
    }
  }
}

}  // namespace sluice::cli
