#include "cluster/embedded_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/assert.h"

namespace sluice::cluster {
namespace {

class store_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "metadata_store"; }
  std::string message(int c) const override {
    switch (static_cast<store_errc>(c)) {
      case store_errc::no_node: return "no such node";
      case store_errc::node_exists: return "node exists";
      case store_errc::bad_version: return "version mismatch";
      case store_errc::not_empty: return "node has children";
      case store_errc::no_parent: return "parent node missing";
      case store_errc::io_error: return "metadata store I/O error";
      case store_errc::connection_loss: return "metadata store unreachable";
    }
    return "unknown";
  }
};

constexpr const char* file_name = "sluice-metadata.json";
constexpr int format_version = 1;

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

const std::error_category& store_category() {
  static store_category_impl c;
  return c;
}

std::unique_ptr<embedded_store> embedded_store::in_memory() {
  return std::unique_ptr<embedded_store>(new embedded_store());
}

result<std::unique_ptr<embedded_store>> embedded_store::open(const std::string& dir, std::string* error) {
  auto s = in_memory();
  s->_file = dir + "/" + file_name;
  std::ifstream in(s->_file);
  if (!in) return s;  // fresh store
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format_version", 0) != format_version || !j.contains("nodes") ||
      !j["nodes"].is_object()) {
    if (error)
      *error = fmt::format("{}: not a valid Sluice metadata file (format_version {})", s->_file, format_version);
    return store_errc::io_error;
  }
  for (auto& [path, v] : j["nodes"].items()) {
    if (!v.is_object() || !v.contains("data") || !v["data"].is_string() || !v.contains("version") ||
        !v["version"].is_number_integer()) {
      if (error) *error = fmt::format("{}: malformed node '{}'", s->_file, path);
      return store_errc::io_error;
    }
    s->_nodes[path] = entry{node{v["data"].get<std::string>(), v["version"].get<int32_t>()}, false, 0};
  }
  return s;
}

std::string embedded_store::parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == 0 || pos == std::string::npos ? "/" : path.substr(0, pos);
}

result<std::vector<std::string>> embedded_store::children_of(const node_map& nodes, const std::string& path) {
  if (path != "/" && !nodes.contains(path)) return store_errc::no_node;
  std::string prefix = path == "/" ? "/" : path + "/";
  std::vector<std::string> out;
  for (auto it = nodes.lower_bound(prefix); it != nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    std::string rest = it->first.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) out.push_back(rest);
  }
  return out;
}

result<void> embedded_store::apply(session_id sid, const store_op& op, node_map& nodes, std::vector<change>& changes,
                                   int32_t* new_version) {
  auto it = nodes.find(op.path);
  switch (op.type) {
    case store_op::kind::check:
      if (it == nodes.end()) return store_errc::no_node;
      if (op.expected_version != -1 && it->second.n.version != op.expected_version) return store_errc::bad_version;
      return ok();
    case store_op::kind::create: {
      if (it != nodes.end()) return store_errc::node_exists;
      std::string parent = parent_of(op.path);
      if (parent != "/" && !nodes.contains(parent)) return store_errc::no_parent;
      nodes[op.path] = entry{node{op.data, 0}, op.ephemeral, op.ephemeral ? sid : 0};
      changes.push_back({true, op.path, watch_event::created});
      changes.push_back({false, parent, watch_event::children_changed});
      return ok();
    }
    case store_op::kind::set:
      if (it == nodes.end()) return store_errc::no_node;
      if (op.expected_version != -1 && it->second.n.version != op.expected_version) return store_errc::bad_version;
      it->second.n.data = op.data;
      ++it->second.n.version;
      if (new_version) *new_version = it->second.n.version;
      changes.push_back({true, op.path, watch_event::data_changed});
      return ok();
    case store_op::kind::remove: {
      if (it == nodes.end()) return store_errc::no_node;
      if (op.expected_version != -1 && it->second.n.version != op.expected_version) return store_errc::bad_version;
      std::string prefix = op.path + "/";
      auto child = nodes.lower_bound(prefix);
      if (child != nodes.end() && child->first.compare(0, prefix.size(), prefix) == 0) return store_errc::not_empty;
      nodes.erase(it);
      changes.push_back({true, op.path, watch_event::deleted});
      changes.push_back({false, op.path, watch_event::deleted});
      changes.push_back({false, parent_of(op.path), watch_event::children_changed});
      return ok();
    }
  }
  return store_errc::io_error;
}

void embedded_store::take_changes(const std::vector<change>& changes, fired_watches& out) {
  for (const auto& c : changes) take(c.data ? _data_watches : _child_watches, c.path, c.event, out);
}

result<void> embedded_store::create(const std::string& path, const std::string& data, bool ephemeral,
                                    bool make_parents) {
  return create_as(0, path, data, ephemeral, make_parents);
}

result<void> embedded_store::create_as(session_id sid, const std::string& path, const std::string& data, bool ephemeral,
                                       bool make_parents) {
  fired_watches fired;
  result<void> r = ok();
  {
    std::lock_guard g(_mu);
    if (is_expired(sid)) return store_errc::connection_loss;
    if (_nodes.contains(path)) return store_errc::node_exists;
    std::vector<std::string> missing_parents;
    for (std::string p = parent_of(path); p != "/"; p = parent_of(p)) {
      if (_nodes.contains(p)) break;
      if (!make_parents) return store_errc::no_parent;
      missing_parents.push_back(p);
    }
    std::vector<change> changes;
    for (auto p = missing_parents.rbegin(); p != missing_parents.rend(); ++p) {
      auto c = apply(sid, store_op::create(*p, ""), _nodes, changes, nullptr);
      SLUICE_ASSERT(c.has_value(), "creating a missing parent {} failed", *p);
    }
    if (auto c = apply(sid, store_op::create(path, data, ephemeral), _nodes, changes, nullptr); !c) return c;
    r = persist();
    take_changes(changes, fired);
  }
  run(fired);
  return r;
}

result<node> embedded_store::get(const std::string& path) {
  std::lock_guard g(_mu);
  auto it = _nodes.find(path);
  if (it == _nodes.end()) return store_errc::no_node;
  return it->second.n;
}

result<int32_t> embedded_store::set(const std::string& path, const std::string& data, int32_t expected_version) {
  return set_as(0, path, data, expected_version);
}

result<int32_t> embedded_store::set_as(session_id sid, const std::string& path, const std::string& data,
                                       int32_t expected_version) {
  fired_watches fired;
  int32_t v = 0;
  {
    std::lock_guard g(_mu);
    if (is_expired(sid)) return store_errc::connection_loss;
    std::vector<change> changes;
    if (auto r = apply(sid, store_op::set(path, data, expected_version), _nodes, changes, &v); !r) return r.error();
    if (auto r = persist(); !r) return r.error();
    take_changes(changes, fired);
  }
  run(fired);
  return v;
}

result<void> embedded_store::remove(const std::string& path, int32_t expected_version, bool recursive) {
  return remove_as(0, path, expected_version, recursive);
}

result<void> embedded_store::remove_as(session_id sid, const std::string& path, int32_t expected_version,
                                       bool recursive) {
  fired_watches fired;
  result<void> r = ok();
  {
    std::lock_guard g(_mu);
    if (is_expired(sid)) return store_errc::connection_loss;
    auto it = _nodes.find(path);
    if (it == _nodes.end()) return store_errc::no_node;
    if (expected_version != -1 && it->second.n.version != expected_version) return store_errc::bad_version;
    std::string prefix = path + "/";
    std::vector<std::string> descendants;
    for (auto c = _nodes.lower_bound(prefix); c != _nodes.end() && c->first.compare(0, prefix.size(), prefix) == 0; ++c)
      descendants.push_back(c->first);
    if (!descendants.empty() && !recursive) return store_errc::not_empty;
    std::vector<change> changes;
    // Deepest first: a map orders "/a/b" before "/a/b/c", so reverse order
    // removes leaves first.
    for (auto d = descendants.rbegin(); d != descendants.rend(); ++d) {
      auto c = apply(sid, store_op::remove(*d), _nodes, changes, nullptr);
      SLUICE_ASSERT(c.has_value(), "removing {} failed", *d);
    }
    auto c = apply(sid, store_op::remove(path), _nodes, changes, nullptr);
    SLUICE_ASSERT(c.has_value(), "removing {} failed", path);
    r = persist();
    take_changes(changes, fired);
  }
  run(fired);
  return r;
}

result<std::vector<std::string>> embedded_store::children(const std::string& path) {
  std::lock_guard g(_mu);
  return children_of(_nodes, path);
}

result<node> embedded_store::get_and_watch(const std::string& path, watch_fn on_change) {
  return get_and_watch_as(0, path, std::move(on_change));
}

result<node> embedded_store::get_and_watch_as(session_id sid, const std::string& path, watch_fn on_change) {
  std::lock_guard g(_mu);
  if (is_expired(sid)) return store_errc::connection_loss;
  _data_watches.emplace(path, watch{sid, std::move(on_change)});
  auto it = _nodes.find(path);
  if (it == _nodes.end()) return store_errc::no_node;
  return it->second.n;
}

result<std::vector<std::string>> embedded_store::children_and_watch(const std::string& path, watch_fn on_change) {
  return children_and_watch_as(0, path, std::move(on_change));
}

result<std::vector<std::string>> embedded_store::children_and_watch_as(session_id sid, const std::string& path,
                                                                       watch_fn on_change) {
  std::lock_guard g(_mu);
  if (is_expired(sid)) return store_errc::connection_loss;
  auto r = children_of(_nodes, path);
  if (r) _child_watches.emplace(path, watch{sid, std::move(on_change)});
  return r;
}

result<void> embedded_store::multi(const std::vector<store_op>& ops) { return multi_as(0, ops); }

result<void> embedded_store::multi_as(session_id sid, const std::vector<store_op>& ops) {
  fired_watches fired;
  result<void> r = ok();
  {
    std::lock_guard g(_mu);
    if (is_expired(sid)) return store_errc::connection_loss;
    // All-or-nothing: apply to a copy, keep it only if every op succeeded.
    // Metadata trees are small and multi() is control-path only.
    node_map next = _nodes;
    std::vector<change> changes;
    for (const auto& op : ops)
      if (auto a = apply(sid, op, next, changes, nullptr); !a) return a;
    _nodes = std::move(next);
    r = persist();
    take_changes(changes, fired);
  }
  run(fired);
  return r;
}

std::unique_ptr<embedded_session> embedded_store::open_session() {
  std::lock_guard g(_mu);
  return std::unique_ptr<embedded_session>(new embedded_session(*this, _next_session++));
}

bool embedded_store::is_expired(session_id sid) const {
  return sid != 0 && std::find(_expired.begin(), _expired.end(), sid) != _expired.end();
}

void embedded_store::expire(session_id sid) {
  fired_watches fired;
  {
    std::lock_guard g(_mu);
    _expired.push_back(sid);
    for (auto* table : {&_data_watches, &_child_watches}) {
      for (auto it = table->begin(); it != table->end();) {
        if (it->second.session == sid) {
          fired.push_back(fired_watch{std::move(it->second.fn), watch_event::session_lost, it->first});
          it = table->erase(it);
        } else {
          ++it;
        }
      }
    }
    std::vector<std::string> owned;
    for (const auto& [path, e] : _nodes)
      if (e.ephemeral && e.owner == sid) owned.push_back(path);
    std::vector<change> changes;
    for (const auto& path : owned) (void)apply(sid, store_op::remove(path), _nodes, changes, nullptr);
    (void)persist();  // ephemeral nodes are not persisted; nothing on disk changes
    take_changes(changes, fired);
  }
  run(fired);
}

void embedded_store::take(watch_table& table, const std::string& path, watch_event e, fired_watches& out) {
  auto [begin, end] = table.equal_range(path);
  for (auto it = begin; it != end; ++it) out.push_back(fired_watch{std::move(it->second.fn), e, path});
  table.erase(begin, end);
}

void embedded_store::run(fired_watches& fired) {
  for (auto& f : fired) f.fn(f.event, f.path);
}

// --- embedded_session
// ---------------------------------------------------------------------------

void embedded_session::expire() {
  {
    std::lock_guard g(_mu);
    if (_expired) return;
    _expired = true;
  }
  _store.expire(_id);
}

bool embedded_session::expired() const {
  std::lock_guard g(_mu);
  return _expired;
}

result<void> embedded_session::create(const std::string& path, const std::string& data, bool ephemeral,
                                      bool make_parents) {
  if (expired()) return store_errc::connection_loss;
  return _store.create_as(_id, path, data, ephemeral, make_parents);
}
result<node> embedded_session::get(const std::string& path) {
  if (expired()) return store_errc::connection_loss;
  return _store.get(path);
}
result<int32_t> embedded_session::set(const std::string& path, const std::string& data, int32_t expected_version) {
  if (expired()) return store_errc::connection_loss;
  return _store.set_as(_id, path, data, expected_version);
}
result<void> embedded_session::remove(const std::string& path, int32_t expected_version, bool recursive) {
  if (expired()) return store_errc::connection_loss;
  return _store.remove_as(_id, path, expected_version, recursive);
}
result<std::vector<std::string>> embedded_session::children(const std::string& path) {
  if (expired()) return store_errc::connection_loss;
  return _store.children(path);
}
result<node> embedded_session::get_and_watch(const std::string& path, watch_fn on_change) {
  if (expired()) return store_errc::connection_loss;
  return _store.get_and_watch_as(_id, path, std::move(on_change));
}
result<std::vector<std::string>> embedded_session::children_and_watch(const std::string& path, watch_fn on_change) {
  if (expired()) return store_errc::connection_loss;
  return _store.children_and_watch_as(_id, path, std::move(on_change));
}
result<void> embedded_session::multi(const std::vector<store_op>& ops) {
  if (expired()) return store_errc::connection_loss;
  return _store.multi_as(_id, ops);
}

result<void> embedded_store::persist() {
  if (_file.empty()) return ok();
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [path, e] : _nodes) {
    if (e.ephemeral) continue;
    nodes[path] = {{"data", e.n.data}, {"version", e.n.version}};
  }
  nlohmann::json doc = {{"format_version", format_version}, {"nodes", nodes}};
  std::string text = doc.dump(1) + "\n";
  std::string tmp = _file + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return store_errc::io_error;
  bool ok_write = write_all(fd, text) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok_write || ::rename(tmp.c_str(), _file.c_str()) != 0) return store_errc::io_error;
  std::string dir = _file.substr(0, _file.rfind('/'));
  int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok();
}

}  // namespace sluice::cluster
