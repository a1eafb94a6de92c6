#include "cluster/zookeeper_store.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "base/logging.h"

namespace sluice::cluster {
namespace {

// Largest node ZooKeeper accepts by default (jute.maxbuffer).
constexpr int max_node_bytes = 1 << 20;

store_errc to_store_errc(int rc) {
  switch (rc) {
    case ZNONODE: return store_errc::no_node;
    case ZNODEEXISTS: return store_errc::node_exists;
    case ZBADVERSION: return store_errc::bad_version;
    case ZNOTEMPTY: return store_errc::not_empty;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
    case ZSESSIONEXPIRED:
    case ZSESSIONMOVED:
    case ZINVALIDSTATE:
    case ZCLOSING: return store_errc::connection_loss;
    default: return store_errc::io_error;
  }
}

// The process-wide registry of pending watches (see zookeeper_store.h).
struct pending_watch {
  const zookeeper_store* store;
  std::string path;
  watch_fn fn;
};
std::mutex g_watch_mu;
int64_t g_next_watch_id = 1;
std::map<int64_t, pending_watch> g_watches;

void* watch_context(int64_t id) { return reinterpret_cast<void*>(static_cast<intptr_t>(id)); }

// "a:1,b:2/chroot" -> {"a:1,b:2", "/chroot"}; no chroot -> {"a:1,b:2", ""}.
std::pair<std::string, std::string> split_chroot(const std::string& connect) {
  auto slash = connect.find('/');
  if (slash == std::string::npos) return {connect, ""};
  std::string chroot = connect.substr(slash);
  while (chroot.size() > 1 && chroot.back() == '/') chroot.pop_back();
  return {connect.substr(0, slash), chroot == "/" ? "" : chroot};
}

}  // namespace

zookeeper_store::zookeeper_store(zookeeper_options options) : _options(std::move(options)) {}

result<std::unique_ptr<zookeeper_store>> zookeeper_store::open(const zookeeper_options& options, std::string* error) {
  static std::once_flag quiet_library;
  std::call_once(quiet_library, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR); });
  if (options.connect.empty()) {
    if (error) *error = "zookeeper.connect is empty";
    return store_errc::connection_loss;
  }
  auto [hosts, chroot] = split_chroot(options.connect);
  if (!chroot.empty()) {
    // The chroot must exist before a session rooted there can use it; create it like Kafka does.
    zookeeper_options root_options = options;
    root_options.connect = hosts;
    auto root = open(root_options, error);
    if (!root) return root.error();
    auto r = (*root)->create(chroot, "", false, true);
    if (!r && r.error() != make_error_code(store_errc::node_exists)) {
      if (error) *error = fmt::format("cannot create the ZooKeeper chroot {}: {}", chroot, r.error().message());
      return r.error();
    }
  }
  std::unique_ptr<zookeeper_store> s(new zookeeper_store(options));
  {
    std::unique_lock lock(s->_mu);
    if (auto r = s->connect_locked(lock, error); !r) return r.error();
  }
  s->_session_thread = std::thread([p = s.get()] { p->session_thread_main(); });
  return s;
}

result<void> zookeeper_store::connect_locked(std::unique_lock<std::mutex>& lock, std::string* error) {
  _connected = false;
  _expired = false;
  _zh = zookeeper_init(_options.connect.c_str(), &zookeeper_store::on_session_event, _options.session_timeout_ms,
                       nullptr, this, 0);
  if (_zh == nullptr) {
    if (error) *error = fmt::format("cannot start a ZooKeeper client for '{}' (bad connect string?)", _options.connect);
    return store_errc::connection_loss;
  }
  bool up = _cv.wait_for(lock, std::chrono::milliseconds(_options.connection_timeout_ms),
                         [&] { return _connected || _closing; });
  if (!up || !_connected) {
    zhandle_t* zh = _zh;
    _zh = nullptr;
    lock.unlock();  // closing joins the client's threads, which take _mu in on_session_event
    zookeeper_close(zh);
    lock.lock();
    if (error)
      *error = fmt::format("could not connect to ZooKeeper at {} within {} ms", _options.connect,
                           _options.connection_timeout_ms);
    return store_errc::connection_loss;
  }
  return ok();
}

zookeeper_store::~zookeeper_store() {
  zhandle_t* zh = nullptr;
  {
    std::lock_guard g(_mu);
    _closing = true;
    _cv.notify_all();
  }
  if (_session_thread.joinable()) _session_thread.join();
  {
    std::lock_guard g(_mu);
    zh = _zh;
    _zh = nullptr;
  }
  if (zh != nullptr) zookeeper_close(zh);
  std::lock_guard g(g_watch_mu);
  std::erase_if(g_watches, [this](const auto& kv) { return kv.second.store == this; });
}

void zookeeper_store::on_session_event(zhandle_t* zh, int type, int state, const char*, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* self = static_cast<zookeeper_store*>(ctx);
  std::lock_guard g(self->_mu);
  if (zh != self->_zh && self->_zh != nullptr) return;  // an old session's late event
  if (state == ZOO_CONNECTED_STATE) {
    self->_connected = true;
  } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
    self->_connected = false;
    self->_expired = true;
  } else {
    self->_connected = false;  // connecting again within the session; the library retries
  }
  self->_cv.notify_all();
}

void zookeeper_store::session_thread_main() {
  std::unique_lock lock(_mu);
  while (true) {
    _cv.wait(lock, [&] { return _expired || _closing; });
    if (_closing) return;
    log::get("cluster")->warn("ZooKeeper session expired; opening a new session");
    zhandle_t* old = _zh;
    _zh = nullptr;
    lock.unlock();
    zookeeper_close(old);
    drop_watches();
    lock.lock();
    for (int attempt = 0; !_closing; ++attempt) {
      std::string error;
      if (connect_locked(lock, &error)) break;
      log::get("cluster")->warn("{}; retrying", error);
      _cv.wait_for(lock, std::chrono::milliseconds(std::min(1000 * (attempt + 1), 5000)), [&] { return _closing; });
    }
    if (_closing) return;
    auto listener = _session_listener;
    lock.unlock();
    if (listener) listener();
    lock.lock();
  }
}

void zookeeper_store::set_session_listener(std::function<void()> on_new_session) {
  std::lock_guard g(_mu);
  _session_listener = std::move(on_new_session);
}

zhandle_t* zookeeper_store::handle() const {
  std::lock_guard g(_mu);
  return _connected ? _zh : nullptr;
}

int64_t zookeeper_store::session_id() const {
  std::lock_guard g(_mu);
  return _zh ? zoo_client_id(_zh)->client_id : 0;
}

std::string zookeeper_store::session_password() const {
  std::lock_guard g(_mu);
  return _zh ? std::string(zoo_client_id(_zh)->passwd, sizeof(clientid_t::passwd)) : std::string();
}

// --- watches ---------------------------------------------------------------------------------

int64_t zookeeper_store::register_watch(const std::string& path, watch_fn fn) {
  std::lock_guard g(g_watch_mu);
  int64_t id = g_next_watch_id++;
  g_watches.emplace(id, pending_watch{this, path, std::move(fn)});
  return id;
}

void zookeeper_store::unregister_watch(int64_t id) {
  std::lock_guard g(g_watch_mu);
  g_watches.erase(id);
}

void zookeeper_store::fire_watch(int64_t id, watch_event e, const std::string& path) {
  watch_fn fn;
  {
    std::lock_guard g(g_watch_mu);
    auto it = g_watches.find(id);
    if (it == g_watches.end()) return;
    fn = std::move(it->second.fn);
    g_watches.erase(it);
  }
  fn(e, path);
}

void zookeeper_store::drop_watches() {
  std::vector<pending_watch> lost;
  {
    std::lock_guard g(g_watch_mu);
    for (auto it = g_watches.begin(); it != g_watches.end();) {
      if (it->second.store == this) {
        lost.push_back(std::move(it->second));
        it = g_watches.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : lost) w.fn(watch_event::session_lost, w.path);
}

void zookeeper_store::on_watch_event(zhandle_t*, int type, int state, const char* path, void* ctx) {
  auto id = static_cast<int64_t>(reinterpret_cast<intptr_t>(ctx));
  std::string p = path ? path : "";
  if (type == ZOO_SESSION_EVENT) {
    // Disconnections within a session keep watches (the server re-arms them on reconnect).
    if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) fire_watch(id, watch_event::session_lost, p);
    return;
  }
  watch_event e = watch_event::session_lost;  // ZOO_NOTWATCHING_EVENT: the server dropped it
  if (type == ZOO_CREATED_EVENT) e = watch_event::created;
  else if (type == ZOO_DELETED_EVENT) e = watch_event::deleted;
  else if (type == ZOO_CHANGED_EVENT) e = watch_event::data_changed;
  else if (type == ZOO_CHILD_EVENT) e = watch_event::children_changed;
  fire_watch(id, e, p);
}

// --- operations ------------------------------------------------------------------------------

result<void> zookeeper_store::create(const std::string& path, const std::string& data, bool ephemeral,
                                     bool make_parents) {
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  const int mode = ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT;
  int rc = zoo_create(zh, path.c_str(), data.data(), static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE, mode,
                      nullptr, 0);
  if (rc == ZNONODE) {
    if (!make_parents) return store_errc::no_parent;
    for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      std::string parent = path.substr(0, slash);
      int prc = zoo_create(zh, parent.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
      if (prc != ZOK && prc != ZNODEEXISTS) return to_store_errc(prc);
    }
    rc = zoo_create(zh, path.c_str(), data.data(), static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE, mode,
                    nullptr, 0);
  }
  if (rc != ZOK) return to_store_errc(rc);
  return ok();
}

namespace {
// Reads a node's data, growing the buffer if the node is larger than the first guess.
// `watch_id` > 0 sets that watch on the first read only.
int read_node(zhandle_t* zh, const std::string& path, watcher_fn watcher, int64_t watch_id, node& out) {
  std::string buf(64 * 1024, '\0');
  Stat st{};
  int len = static_cast<int>(buf.size());
  int rc = watch_id > 0 ? zoo_wget(zh, path.c_str(), watcher, watch_context(watch_id), buf.data(), &len, &st)
                        : zoo_get(zh, path.c_str(), 0, buf.data(), &len, &st);
  if (rc == ZOK && st.dataLength > static_cast<int>(buf.size())) {
    buf.assign(static_cast<size_t>(std::min(st.dataLength, max_node_bytes)), '\0');
    len = static_cast<int>(buf.size());
    rc = zoo_get(zh, path.c_str(), 0, buf.data(), &len, &st);
  }
  if (rc != ZOK) return rc;
  buf.resize(len < 0 ? 0 : static_cast<size_t>(len));
  out = node{std::move(buf), st.version};
  return ZOK;
}
}  // namespace

result<node> zookeeper_store::get(const std::string& path) {
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  node n;
  if (int rc = read_node(zh, path, nullptr, 0, n); rc != ZOK) return to_store_errc(rc);
  return n;
}

result<node> zookeeper_store::get_and_watch(const std::string& path, watch_fn on_change) {
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  int64_t id = register_watch(path, std::move(on_change));
  node n;
  int rc = read_node(zh, path, &zookeeper_store::on_watch_event, id, n);
  if (rc == ZNONODE) {
    // A get on a missing node sets no watch in ZooKeeper; an exists-watch fires on creation.
    Stat st{};
    rc = zoo_wexists(zh, path.c_str(), &zookeeper_store::on_watch_event, watch_context(id), &st);
    if (rc == ZNONODE) return store_errc::no_node;  // watch set, fires on creation
    if (rc == ZOK) rc = read_node(zh, path, nullptr, 0, n);  // created meanwhile; watch is set
  }
  if (rc != ZOK) {
    unregister_watch(id);
    return to_store_errc(rc);
  }
  return n;
}

result<int32_t> zookeeper_store::set(const std::string& path, const std::string& data, int32_t expected_version) {
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  Stat st{};
  int rc = zoo_set2(zh, path.c_str(), data.data(), static_cast<int>(data.size()), expected_version, &st);
  if (rc != ZOK) return to_store_errc(rc);
  return st.version;
}

result<void> zookeeper_store::remove(const std::string& path, int32_t expected_version, bool recursive) {
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  if (recursive) return remove_tree(zh, path, expected_version);
  int rc = zoo_delete(zh, path.c_str(), expected_version);
  if (rc != ZOK) return to_store_errc(rc);
  return ok();
}

result<void> zookeeper_store::remove_tree(zhandle_t* zh, const std::string& path, int32_t expected_version) {
  String_vector kids{};
  int rc = zoo_get_children(zh, path.c_str(), 0, &kids);
  if (rc != ZOK) return to_store_errc(rc);
  std::vector<std::string> names(kids.data, kids.data + kids.count);
  deallocate_String_vector(&kids);
  for (const auto& name : names) {
    auto r = remove_tree(zh, path + "/" + name, -1);
    if (!r && r.error() != make_error_code(store_errc::no_node)) return r;
  }
  rc = zoo_delete(zh, path.c_str(), expected_version);
  if (rc != ZOK) return to_store_errc(rc);
  return ok();
}

namespace {
int read_children(zhandle_t* zh, const std::string& path, watcher_fn watcher, int64_t watch_id,
                  std::vector<std::string>& out) {
  String_vector kids{};
  int rc = zoo_wget_children(zh, path.c_str(), watcher, watch_id > 0 ? watch_context(watch_id) : nullptr, &kids);
  if (rc != ZOK) return rc;
  out.assign(kids.data, kids.data + kids.count);
  deallocate_String_vector(&kids);
  std::sort(out.begin(), out.end());
  return ZOK;
}
}  // namespace

result<std::vector<std::string>> zookeeper_store::children(const std::string& path) {
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  std::vector<std::string> out;
  if (int rc = read_children(zh, path, nullptr, 0, out); rc != ZOK) return to_store_errc(rc);
  return out;
}

result<std::vector<std::string>> zookeeper_store::children_and_watch(const std::string& path, watch_fn on_change) {
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  int64_t id = register_watch(path, std::move(on_change));
  std::vector<std::string> out;
  if (int rc = read_children(zh, path, &zookeeper_store::on_watch_event, id, out); rc != ZOK) {
    unregister_watch(id);
    return to_store_errc(rc);
  }
  return out;
}

result<void> zookeeper_store::multi(const std::vector<store_op>& ops) {
  if (ops.empty()) return ok();
  zhandle_t* zh = handle();
  if (zh == nullptr) return store_errc::connection_loss;
  std::vector<zoo_op_t> zops(ops.size());
  std::vector<zoo_op_result_t> results(ops.size());
  std::vector<Stat> stats(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    switch (op.type) {
      case store_op::kind::check: zoo_check_op_init(&zops[i], op.path.c_str(), op.expected_version); break;
      case store_op::kind::create:
        zoo_create_op_init(&zops[i], op.path.c_str(), op.data.data(), static_cast<int>(op.data.size()),
                           &ZOO_OPEN_ACL_UNSAFE, op.ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT, nullptr, 0);
        break;
      case store_op::kind::set:
        zoo_set_op_init(&zops[i], op.path.c_str(), op.data.data(), static_cast<int>(op.data.size()),
                        op.expected_version, &stats[i]);
        break;
      case store_op::kind::remove: zoo_delete_op_init(&zops[i], op.path.c_str(), op.expected_version); break;
    }
  }
  int rc = zoo_multi(zh, static_cast<int>(zops.size()), zops.data(), results.data());
  if (rc == ZOK) return ok();
  // A create under a missing parent fails with ZNONODE; name it as the embedded store does.
  for (size_t i = 0; i < ops.size(); ++i)
    if (results[i].err == ZNONODE && ops[i].type == store_op::kind::create) return store_errc::no_parent;
  return to_store_errc(rc);
}

}  // namespace sluice::cluster
