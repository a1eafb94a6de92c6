#pragma once
// The metadata store of a multi-broker cluster: Apache ZooKeeper through its official C client
// (libzookeeper-mt), DESIGN.md §2. Node paths and data are the same as with the embedded store;
// ZooKeeper provides the versions, compare-and-set, ephemeral nodes and watches natively.
//
// Sessions: ephemeral nodes live as long as this store's ZooKeeper session. The client library
// reconnects within a session by itself; when the session expires (the broker was partitioned
// from ZooKeeper longer than the session timeout) this store opens a new session, fires pending
// watches with watch_event::session_lost, and then calls the session listener, whose job is to
// re-create the broker's ephemeral nodes and re-read what it watches (as Kafka does).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/metadata_store.h"

typedef struct _zhandle zhandle_t;

namespace sluice::cluster {

struct zookeeper_options {
  // Kafka's zookeeper.connect: "host:port[,host:port...][/chroot]". A missing chroot path is
  // created.
  std::string connect;
  int32_t session_timeout_ms = 18000;     // zookeeper.session.timeout.ms
  int32_t connection_timeout_ms = 18000;  // zookeeper.connection.timeout.ms
};

class zookeeper_store final : public metadata_store {
 public:
  // Connects and waits (up to connection_timeout_ms) for the session to be established.
  static result<std::unique_ptr<zookeeper_store>> open(const zookeeper_options& options, std::string* error);
  ~zookeeper_store() override;
  zookeeper_store(const zookeeper_store&) = delete;
  zookeeper_store& operator=(const zookeeper_store&) = delete;

  result<void> create(const std::string& path, const std::string& data, bool ephemeral, bool make_parents) override;
  result<node> get(const std::string& path) override;
  result<int32_t> set(const std::string& path, const std::string& data, int32_t expected_version) override;
  // A recursive remove deletes children first and is not atomic: a concurrent writer may add a
  // child meanwhile (then not_empty is returned).
  result<void> remove(const std::string& path, int32_t expected_version, bool recursive) override;
  result<std::vector<std::string>> children(const std::string& path) override;
  result<node> get_and_watch(const std::string& path, watch_fn on_change) override;
  result<std::vector<std::string>> children_and_watch(const std::string& path, watch_fn on_change) override;
  result<void> multi(const std::vector<store_op>& ops) override;  // zoo_multi

  // Called on the store's session thread after a lost session was replaced by a new one.
  void set_session_listener(std::function<void()> on_new_session);
  // The current session id (tests: a second client can join this session and close it, which
  // expires it).
  int64_t session_id() const;
  std::string session_password() const;

 private:
  explicit zookeeper_store(zookeeper_options options);
  // Opens a session and waits until connected. REQUIRES: _mu held.
  result<void> connect_locked(std::unique_lock<std::mutex>& lock, std::string* error);
  zhandle_t* handle() const;
  result<void> remove_tree(zhandle_t* zh, const std::string& path, int32_t expected_version);
  int64_t register_watch(const std::string& path, watch_fn fn);
  void unregister_watch(int64_t id);
  void session_thread_main();

  static void on_session_event(zhandle_t* zh, int type, int state, const char* path, void* ctx);
  static void on_watch_event(zhandle_t* zh, int type, int state, const char* path, void* ctx);

  const zookeeper_options _options;

  mutable std::mutex _mu;
  std::condition_variable _cv;
  zhandle_t* _zh = nullptr;
  bool _connected = false;
  bool _expired = false;
  bool _closing = false;
  std::function<void()> _session_listener;

  // Pending one-shot watches live in a process-wide registry keyed by id; the id, not a pointer,
  // is the ZooKeeper watcher context, so an event for a watch already fired or dropped finds
  // nothing instead of freed memory.
  static void fire_watch(int64_t id, watch_event e, const std::string& path);
  void drop_watches();

  std::thread _session_thread;  // replaces expired sessions
};

}  // namespace sluice::cluster
