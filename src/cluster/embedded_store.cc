#include "cluster/embedded_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

std::unique_ptr<embedded_store> embedded_store::in_memory() { return std::unique_ptr<embedded_store>(new embedded_store()); }

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
    if (error) *error = fmt::format("{}: not a valid Sluice metadata file (format_version {})", s->_file, format_version);
    return store_errc::io_error;
  }
  for (auto& [path, v] : j["nodes"].items()) {
    if (!v.is_object() || !v.contains("data") || !v["data"].is_string() || !v.contains("version") ||
        !v["version"].is_number_integer()) {
      if (error) *error = fmt::format("{}: malformed node '{}'", s->_file, path);
      return store_errc::io_error;
    }
    s->_nodes[path] = entry{node{v["data"].get<std::string>(), v["version"].get<int32_t>()}, false};
  }
  return s;
}

std::string embedded_store::parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == 0 || pos == std::string::npos ? "/" : path.substr(0, pos);
}

result<void> embedded_store::create(const std::string& path, const std::string& data, bool ephemeral,
                                    bool make_parents) {
  fired_watches fired;
  result<void> r = ok();
  {
    std::lock_guard g(_mu);
    if (_nodes.contains(path)) return store_errc::node_exists;
    std::vector<std::string> missing_parents;
    for (std::string p = parent_of(path); p != "/"; p = parent_of(p)) {
      if (_nodes.contains(p)) break;
      if (!make_parents) return store_errc::no_parent;
      missing_parents.push_back(p);
    }
    missing_parents.insert(missing_parents.begin(), path);
    for (const auto& p : missing_parents) {
      _nodes[p] = entry{node{p == path ? data : std::string(), 0}, p == path && ephemeral};
      take(_data_watches, p, watch_event::created, fired);
      take(_child_watches, parent_of(p), watch_event::children_changed, fired);
    }
    r = persist();
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
  fired_watches fired;
  int32_t v = 0;
  {
    std::lock_guard g(_mu);
    auto it = _nodes.find(path);
    if (it == _nodes.end()) return store_errc::no_node;
    if (expected_version != -1 && it->second.n.version != expected_version) return store_errc::bad_version;
    it->second.n.data = data;
    ++it->second.n.version;
    v = it->second.n.version;
    if (auto r = persist(); !r) return r.error();
    take(_data_watches, path, watch_event::data_changed, fired);
  }
  run(fired);
  return v;
}

result<void> embedded_store::remove(const std::string& path, int32_t expected_version, bool recursive) {
  fired_watches fired;
  result<void> r = ok();
  {
    std::lock_guard g(_mu);
    auto it = _nodes.find(path);
    if (it == _nodes.end()) return store_errc::no_node;
    if (expected_version != -1 && it->second.n.version != expected_version) return store_errc::bad_version;
    std::string prefix = path + "/";
    auto child = _nodes.lower_bound(prefix);
    bool has_children = child != _nodes.end() && child->first.compare(0, prefix.size(), prefix) == 0;
    if (has_children && !recursive) return store_errc::not_empty;
    while (child != _nodes.end() && child->first.compare(0, prefix.size(), prefix) == 0) {
      take(_data_watches, child->first, watch_event::deleted, fired);
      take(_child_watches, child->first, watch_event::deleted, fired);
      child = _nodes.erase(child);
    }
    _nodes.erase(path);
    take(_data_watches, path, watch_event::deleted, fired);
    take(_child_watches, path, watch_event::deleted, fired);
    take(_child_watches, parent_of(path), watch_event::children_changed, fired);
    r = persist();
  }
  run(fired);
  return r;
}

result<std::vector<std::string>> embedded_store::children(const std::string& path) {
  std::lock_guard g(_mu);
  return children_locked(path);
}

result<std::vector<std::string>> embedded_store::children_locked(const std::string& path) {
  if (path != "/" && !_nodes.contains(path)) return store_errc::no_node;
  std::string prefix = path == "/" ? "/" : path + "/";
  std::vector<std::string> out;
  for (auto it = _nodes.lower_bound(prefix); it != _nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    std::string rest = it->first.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) out.push_back(rest);
  }
  return out;
}

result<node> embedded_store::get_and_watch(const std::string& path, watch_fn on_change) {
  std::lock_guard g(_mu);
  _data_watches.emplace(path, std::move(on_change));
  auto it = _nodes.find(path);
  if (it == _nodes.end()) return store_errc::no_node;
  return it->second.n;
}

result<std::vector<std::string>> embedded_store::children_and_watch(const std::string& path, watch_fn on_change) {
  std::lock_guard g(_mu);
  auto r = children_locked(path);
  if (r) _child_watches.emplace(path, std::move(on_change));
  return r;
}

void embedded_store::take(std::multimap<std::string, watch_fn>& table, const std::string& path, watch_event e,
                          fired_watches& out) {
  auto [begin, end] = table.equal_range(path);
  for (auto it = begin; it != end; ++it) out.push_back(fired_watch{std::move(it->second), e, path});
  table.erase(begin, end);
}

void embedded_store::run(fired_watches& fired) {
  for (auto& f : fired) f.fn(f.event, f.path);
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
