#pragma once
// The embedded metadata store: the whole node tree in memory, persisted as one file
// (<dir>/sluice-metadata.json, format in docs/format/metadata-store.md) rewritten atomically
// (write temp, fsync, rename, fsync dir) on every change. Metadata changes are rare (topic
// creation, configs), so a full rewrite is simpler than a journal and cheap enough.
//
// Sessions: the store itself acts as session 0 (its ephemeral nodes vanish on restart, as the
// single broker's registration must). open_session() gives further independent sessions on the
// same tree, each a metadata_store of its own, so in-process tests can run several "brokers" on
// one store and kill one: expiring (or destroying) a session removes its ephemeral nodes (firing
// the watches of others) and fires its own pending watches with watch_event::session_lost; its
// later calls fail with connection_loss, like an expired ZooKeeper handle.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/metadata_store.h"

namespace sluice::cluster {

class embedded_session;

class embedded_store final : public metadata_store {
 public:
  // Loads <dir>/sluice-metadata.json if present. Ephemeral nodes are not persisted.
  static result<std::unique_ptr<embedded_store>> open(const std::string& dir, std::string* error);
  // An in-memory store that never touches disk (unit tests, simulations).
  static std::unique_ptr<embedded_store> in_memory();

  result<void> create(const std::string& path, const std::string& data, bool ephemeral, bool make_parents) override;
  result<node> get(const std::string& path) override;
  result<int32_t> set(const std::string& path, const std::string& data, int32_t expected_version) override;
  result<void> remove(const std::string& path, int32_t expected_version, bool recursive) override;
  result<std::vector<std::string>> children(const std::string& path) override;
  result<node> get_and_watch(const std::string& path, watch_fn on_change) override;
  result<std::vector<std::string>> children_and_watch(const std::string& path, watch_fn on_change) override;
  result<void> multi(const std::vector<store_op>& ops) override;

  // A new independent session on this tree. It must not outlive the store.
  std::unique_ptr<embedded_session> open_session();

 private:
  friend class embedded_session;
  using session_id = int64_t;

  // Watches taken from the tables under _mu, run after it is released (callbacks may re-enter).
  struct fired_watch {
    watch_fn fn;
    watch_event event;
    std::string path;
  };
  using fired_watches = std::vector<fired_watch>;
  struct watch {
    session_id session;
    watch_fn fn;
  };
  using watch_table = std::multimap<std::string, watch>;
  struct entry {
    node n;
    bool ephemeral = false;
    session_id owner = 0;  // ephemeral nodes only
  };
  using node_map = std::map<std::string, entry>;
  // A change to announce once it is applied: (data watch?, path, event).
  struct change {
    bool data;
    std::string path;
    watch_event event;
  };

  static void take(watch_table& table, const std::string& path, watch_event e, fired_watches& out);
  static void run(fired_watches& fired);
  void take_changes(const std::vector<change>& changes, fired_watches& out);  // REQUIRES: _mu held

  // Applies one op to `nodes`, recording changes; the version a set produced goes to *new_version.
  static result<void> apply(session_id sid, const store_op& op, node_map& nodes, std::vector<change>& changes,
                            int32_t* new_version);
  static result<std::vector<std::string>> children_of(const node_map& nodes, const std::string& path);

  result<void> create_as(session_id sid, const std::string& path, const std::string& data, bool ephemeral,
                         bool make_parents);
  result<void> remove_as(session_id sid, const std::string& path, int32_t expected_version, bool recursive);
  result<int32_t> set_as(session_id sid, const std::string& path, const std::string& data, int32_t expected_version);
  result<node> get_and_watch_as(session_id sid, const std::string& path, watch_fn on_change);
  result<std::vector<std::string>> children_and_watch_as(session_id sid, const std::string& path, watch_fn on_change);
  result<void> multi_as(session_id sid, const std::vector<store_op>& ops);
  void expire(session_id sid);
  bool is_expired(session_id sid) const;  // REQUIRES: _mu held

  result<void> persist();  // REQUIRES: _mu held
  static std::string parent_of(const std::string& path);

  std::mutex _mu;
  std::string _file;  // empty = in memory only
  node_map _nodes;  // "/" is implicit
  watch_table _data_watches;   // by watched path (may be absent)
  watch_table _child_watches;  // by parent path
  session_id _next_session = 1;
  std::vector<session_id> _expired;  // sessions ended by expire(): their calls fail
};

// One session on an embedded_store (see above). Thread-safe like the store.
class embedded_session final : public metadata_store {
 public:
  ~embedded_session() override { expire(); }
  embedded_session(const embedded_session&) = delete;
  embedded_session& operator=(const embedded_session&) = delete;

  result<void> create(const std::string& path, const std::string& data, bool ephemeral, bool make_parents) override;
  result<node> get(const std::string& path) override;
  result<int32_t> set(const std::string& path, const std::string& data, int32_t expected_version) override;
  result<void> remove(const std::string& path, int32_t expected_version, bool recursive) override;
  result<std::vector<std::string>> children(const std::string& path) override;
  result<node> get_and_watch(const std::string& path, watch_fn on_change) override;
  result<std::vector<std::string>> children_and_watch(const std::string& path, watch_fn on_change) override;
  result<void> multi(const std::vector<store_op>& ops) override;

  // Ends the session as if ZooKeeper expired it (idempotent).
  void expire();
  bool expired() const;

 private:
  friend class embedded_store;
  embedded_session(embedded_store& store, int64_t id) : _store(store), _id(id) {}
  embedded_store& _store;
  const int64_t _id;
  mutable std::mutex _mu;
  bool _expired = false;
};

}  // namespace sluice::cluster
