#pragma once
// The embedded metadata store: the whole node tree in memory, persisted as one file
// (<dir>/sluice-metadata.json, format in docs/format/metadata-store.md) rewritten atomically
// (write temp, fsync, rename, fsync dir) on every change. Metadata changes are rare (topic
// creation, configs), so a full rewrite is simpler than a journal and cheap enough.
#include <map>
#include <mutex>
#include <string>

#include "cluster/metadata_store.h"

namespace sluice::cluster {

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

 private:
  // Watches taken from the tables under _mu, run after it is released (callbacks may re-enter).
  struct fired_watch {
    watch_fn fn;
    watch_event event;
    std::string path;
  };
  using fired_watches = std::vector<fired_watch>;
  static void take(std::multimap<std::string, watch_fn>& table, const std::string& path, watch_event e,
                   fired_watches& out);
  static void run(fired_watches& fired);

  struct entry {
    node n;
    bool ephemeral = false;
  };
  result<void> persist();  // REQUIRES: _mu held
  result<std::vector<std::string>> children_locked(const std::string& path);  // REQUIRES: _mu held
  static std::string parent_of(const std::string& path);

  std::mutex _mu;
  std::string _file;  // empty = in memory only
  std::map<std::string, entry> _nodes;  // "/" is implicit
  std::multimap<std::string, watch_fn> _data_watches;   // by watched path (may be absent)
  std::multimap<std::string, watch_fn> _child_watches;  // by parent path
};

}  // namespace sluice::cluster
