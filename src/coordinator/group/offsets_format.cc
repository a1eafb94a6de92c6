#include "coordinator/group/offsets_format.h"

#include "base/endian.h"

namespace sluice::coordinator::group {
namespace {

class out {
 public:
  template <typename T>
  void num(T v) {
    char b[sizeof(T)];
    store_be<T>(b, v);
    _s.append(b, sizeof(T));
  }
  void str(const std::string& s) {
    num<int16_t>(static_cast<int16_t>(s.size()));
    _s += s;
  }
  void nullable_str(const std::optional<std::string>& s) {
    if (!s) return num<int16_t>(-1);
    str(*s);
  }
  void bytes(const std::vector<uint8_t>& b) {
    num<int32_t>(static_cast<int32_t>(b.size()));
    _s.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  std::string take() { return std::move(_s); }

 private:
  std::string _s;
};

// Bounds-checked reader: every read fails (and stays failed) past the end.
class in {
 public:
  explicit in(std::span<const uint8_t> b) : _b(b) {}
  bool ok() const { return _ok; }
  bool done() const { return _ok && _pos == _b.size(); }
  template <typename T>
  T num() {
    if (!need(sizeof(T))) return T{};
    T v = load_be<T>(_b.data() + _pos);
    _pos += sizeof(T);
    return v;
  }
  std::optional<std::string> nullable_str() {
    auto n = num<int16_t>();
    if (!_ok) return std::nullopt;
    if (n == -1) return std::nullopt;
    if (n < 0 || !need(static_cast<size_t>(n))) {
      _ok = false;
      return std::nullopt;
    }
    std::string s(reinterpret_cast<const char*>(_b.data() + _pos), static_cast<size_t>(n));
    _pos += static_cast<size_t>(n);
    return s;
  }
  std::string str() {
    auto s = nullable_str();
    if (!s) _ok = false;
    return s ? *s : std::string{};
  }
  std::vector<uint8_t> bytes() {
    auto n = num<int32_t>();
    if (!_ok) return {};
    if (n == -1) return {};
    if (n < 0 || !need(static_cast<size_t>(n))) {
      _ok = false;
      return {};
    }
    std::vector<uint8_t> v(_b.begin() + static_cast<ptrdiff_t>(_pos), _b.begin() + static_cast<ptrdiff_t>(_pos + n));
    _pos += static_cast<size_t>(n);
    return v;
  }
  size_t remaining() const { return _b.size() - _pos; }

 private:
  bool need(size_t n) {
    if (!_ok || _b.size() - _pos < n) _ok = false;
    return _ok;
  }
  std::span<const uint8_t> _b;
  size_t _pos = 0;
  bool _ok = true;
};

}  // namespace

std::string encode_offset_commit_key(const offset_commit_key& k) {
  out o;
  o.num<int16_t>(1);
  o.str(k.group);
  o.str(k.topic);
  o.num<int32_t>(k.partition);
  return o.take();
}

std::string encode_offset_commit_value(const offset_commit_value& v) {
  out o;
  o.num<int16_t>(3);
  o.num<int64_t>(v.offset);
  o.num<int32_t>(v.leader_epoch);
  o.str(v.metadata);
  o.num<int64_t>(v.commit_timestamp_ms);
  return o.take();
}

std::string encode_group_metadata_key(const std::string& group) {
  out o;
  o.num<int16_t>(2);
  o.str(group);
  return o.take();
}

std::string encode_group_metadata_value(const group_metadata_value& v) {
  out o;
  o.num<int16_t>(3);
  o.str(v.protocol_type);
  o.num<int32_t>(v.generation);
  o.nullable_str(v.protocol);
  o.nullable_str(v.leader);
  o.num<int64_t>(v.current_state_timestamp_ms);
  o.num<int32_t>(static_cast<int32_t>(v.members.size()));
  for (const auto& m : v.members) {
    o.str(m.member_id);
    o.nullable_str(m.group_instance_id);
    o.str(m.client_id);
    o.str(m.client_host);
    o.num<int32_t>(m.rebalance_timeout_ms);
    o.num<int32_t>(m.session_timeout_ms);
    o.bytes(m.subscription);
    o.bytes(m.assignment);
  }
  return o.take();
}

std::optional<offsets_key> decode_offsets_key(std::span<const uint8_t> bytes) {
  in r(bytes);
  auto version = r.num<int16_t>();
  offsets_key k;
  if (version == 0 || version == 1) {
    k.offset.group = r.str();
    k.offset.topic = r.str();
    k.offset.partition = r.num<int32_t>();
    k.group = k.offset.group;
  } else if (version == 2) {
    k.is_group = true;
    k.group = r.str();
  } else {
    return std::nullopt;
  }
  if (!r.done()) return std::nullopt;
  return k;
}

std::optional<offset_commit_value> decode_offset_commit_value(std::span<const uint8_t> bytes) {
  in r(bytes);
  auto version = r.num<int16_t>();
  if (version < 0 || version > 3) return std::nullopt;
  offset_commit_value v;
  v.offset = r.num<int64_t>();
  if (version >= 3) v.leader_epoch = r.num<int32_t>();
  v.metadata = r.str();
  v.commit_timestamp_ms = r.num<int64_t>();
  if (version == 1) v.expire_timestamp_ms = r.num<int64_t>();
  // Later minor additions (tagged fields of newer versions) are not ours to read; v0-3 end here.
  if (!r.done()) return std::nullopt;
  return v;
}

std::optional<group_metadata_value> decode_group_metadata_value(std::span<const uint8_t> bytes) {
  in r(bytes);
  auto version = r.num<int16_t>();
  if (version < 0 || version > 3) return std::nullopt;
  group_metadata_value v;
  v.protocol_type = r.str();
  v.generation = r.num<int32_t>();
  v.protocol = r.nullable_str();
  v.leader = r.nullable_str();
  if (version >= 2) v.current_state_timestamp_ms = r.num<int64_t>();
  auto n = r.num<int32_t>();
  // Each member takes at least 18 bytes: bound the count by what is left before reserving.
  if (!r.ok() || n < 0 || static_cast<size_t>(n) > r.remaining() / 18) return std::nullopt;
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    member_metadata_record m;
    m.member_id = r.str();
    if (version >= 3) m.group_instance_id = r.nullable_str();
    m.client_id = r.str();
    m.client_host = r.str();
    m.rebalance_timeout_ms = r.num<int32_t>();
    if (version == 0) {
      m.session_timeout_ms = m.rebalance_timeout_ms;
      m.rebalance_timeout_ms = m.session_timeout_ms;
    } else {
      m.session_timeout_ms = r.num<int32_t>();
    }
    m.subscription = r.bytes();
    m.assignment = r.bytes();
    v.members.push_back(std::move(m));
  }
  if (!r.done()) return std::nullopt;
  return v;
}

}  // namespace sluice::coordinator::group
