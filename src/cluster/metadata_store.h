#pragma once
// Cluster metadata lives behind this small ZooKeeper-shaped interface (DESIGN.md §2): a tree of
// versioned nodes with compare-and-set by version, ephemeral nodes tied to the session, and
// child listing. Two implementations: embedded (single broker, the default; see
// embedded_store.h) and ZooKeeper (multi-broker clusters; zookeeper_store.h).
//
// Node layout follows Kafka's ZooKeeper layout where one exists:
//   /cluster/id                                 {"version":"1","id":"<cluster id>"}
//   /brokers/ids/<id>                           broker registration (ephemeral)
//   /brokers/topics/<topic>                     {"version":3,"topic_id":"..","partitions":{"0":[1,2]}}
//   /brokers/topics/<topic>/partitions/<p>/state {"leader":1,"leader_epoch":0,"isr":[1],...}
//   /config/topics/<topic>                      {"version":1,"config":{"k":"v"}}
//   /config/brokers/<id>                        dynamic broker configs
//   /controller                                 {"brokerid":1,...} (ephemeral)
//   /controller_epoch                           "<epoch>" (fences the controller's writes)
//   /sluice/controlled_shutdown/<id>            "" (ephemeral; controller_duties.h)
//   /latest_producer_id_block                   {"version":1,"broker":1,"block_start":"0","block_end":"999"}
//                                               (coordinator/txn/producer_id_manager.h)
// Thread contract: implementations are thread-safe; calls may block briefly (control path only,
// never the produce/fetch data path).
//
// Watches are one-shot, as in ZooKeeper: a watch set by get_and_watch / children_and_watch fires
// at most once, for the next change of that node (or of its child list), and must be set again
// to see later changes. A watch callback runs on a store-internal thread (or, for the embedded
// store, on the thread that made the change, after the change is visible); it must not block
// and may call the store. When a ZooKeeper session is lost, pending watches fire with
// watch_event::session_lost instead: their owner re-reads the state it was watching.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "base/result.h"

namespace sluice::cluster {

enum class store_errc {
  no_node = 1,          // path does not exist
  node_exists = 2,      // create of an existing path
  bad_version = 3,      // compare-and-set lost
  not_empty = 4,        // remove of a node with children
  no_parent = 5,        // create under a missing parent
  io_error = 6,         // persistence failed
  connection_loss = 7,  // remote store unreachable
};
const std::error_category& store_category();
inline std::error_code make_error_code(store_errc e) { return {static_cast<int>(e), store_category()}; }

enum class watch_event {
  created,           // the watched (absent) node was created
  deleted,           // the watched node was removed
  data_changed,      // the watched node's data was set
  children_changed,  // a child of the watched node was created or removed
  session_lost,      // the store lost its session; the watch will not fire otherwise
};
using watch_fn = std::function<void(watch_event, const std::string& path)>;

struct node {
  std::string data;
  int32_t version = 0;  // bumped by every set
};

// One operation of an atomic multi(): all succeed together or none is applied (ZooKeeper's
// multi-op). The controller fences its writes with a `check` of /controller_epoch's version.
struct store_op {
  enum class kind { check, create, set, remove };
  kind type = kind::check;
  std::string path;
  std::string data;              // create, set
  int32_t expected_version = -1;  // check, set, remove (-1 = any; check with -1 = "exists")
  bool ephemeral = false;         // create

  static store_op check(std::string p, int32_t v) { return {kind::check, std::move(p), {}, v, false}; }
  static store_op create(std::string p, std::string d, bool eph = false) {
    return {kind::create, std::move(p), std::move(d), -1, eph};
  }
  static store_op set(std::string p, std::string d, int32_t v) { return {kind::set, std::move(p), std::move(d), v, false}; }
  static store_op remove(std::string p, int32_t v = -1) { return {kind::remove, std::move(p), {}, v, false}; }
};

class metadata_store {
 public:
  virtual ~metadata_store() = default;
  // Creates `path` (parents must exist unless make_parents). Ephemeral nodes vanish with the
  // session (for the embedded store: on broker restart).
  virtual result<void> create(const std::string& path, const std::string& data, bool ephemeral = false,
                              bool make_parents = true) = 0;
  virtual result<node> get(const std::string& path) = 0;
  // Sets data if the current version equals expected_version (-1 = any); returns the new version.
  virtual result<int32_t> set(const std::string& path, const std::string& data, int32_t expected_version) = 0;
  // Removes `path` and, if recursive, its children.
  virtual result<void> remove(const std::string& path, int32_t expected_version = -1, bool recursive = false) = 0;
  // Names (not paths) of the children of `path`, sorted.
  virtual result<std::vector<std::string>> children(const std::string& path) = 0;

  // get(), and a watch for the node's next change: data set or removal, or, if the node does not
  // exist (no_node is returned), its creation.
  virtual result<node> get_and_watch(const std::string& path, watch_fn on_change) = 0;
  // children(), and a watch for the next creation or removal of a child, or of the node itself.
  // No watch is set if the node does not exist.
  virtual result<std::vector<std::string>> children_and_watch(const std::string& path, watch_fn on_change) = 0;

  // Applies every op or none (the first failing op's error is returned; parents of a create must
  // exist, a remove must not have children). Watches fire only after the whole multi is applied.
  virtual result<void> multi(const std::vector<store_op>& ops) = 0;
};

}  // namespace sluice::cluster

template <>
struct std::is_error_code_enum<sluice::cluster::store_errc> : std::true_type {};
