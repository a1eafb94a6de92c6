#include "coordinator/pending_writes.h"

#include <utility>

namespace sluice::coordinator {

void pending_writes::write(internal_partition& store, const std::vector<model::record_data>& records, done_fn done) {
  auto appended = store.append(records);
  if (!appended) {
    done(appended.error());
    return;
  }
  wait(store, *appended, std::move(done));
}

void pending_writes::wait(internal_partition& store, int64_t end_offset, done_fn done) {
  const uint64_t id = ++_s->next_id;
  _s->waits.emplace(id, std::move(done));
  // Weak: a completion arriving after fail_all() or after this object is gone changes nothing.
  store.wait_replicated(end_offset, [weak = std::weak_ptr<state>(_s), id](std::error_code e) {
    auto s = weak.lock();
    if (!s) return;
    auto node = s->waits.extract(id);
    if (node) node.mapped()(e);
  });
}

void pending_writes::fail_all(std::error_code e) {
  auto waits = std::exchange(_s->waits, {});
  for (auto& [_, done] : waits) done(e);
}

}  // namespace sluice::coordinator
