#include "coordinator/txn/transaction_manager.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"
#include "base/logging.h"
#include "coordinator/pending_writes.h"

namespace sluice::coordinator::txn {

namespace {
constexpr int16_t no_epoch = -1;
constexpr int16_t max_epoch = std::numeric_limits<int16_t>::max();
// Kafka's TransactionMetadata.isEpochExhausted: one epoch is kept in reserve for the fence bump.
bool epoch_exhausted(int16_t e) { return e >= max_epoch - 1; }
constexpr size_t max_string_bytes = std::numeric_limits<int16_t>::max();
}  // namespace

struct transaction_manager::txn_metadata {
  std::string id;
  int64_t producer_id = -1;
  int64_t last_producer_id = -1;  // before an id rotation (memory only, see the format page)
  int16_t producer_epoch = no_epoch;
  int16_t last_producer_epoch = no_epoch;  // before the last bump (memory only)
  int32_t timeout_ms = 0;
  txn_state state = txn_state::empty;
  std::set<topic_partition> partitions;
  int64_t start_ms = -1;        // wall
  int64_t last_update_ms = -1;  // wall
  int64_t marker_retry_at_ms = 0;  // monotonic; meaningful in Prepare* only
  bool pending = false;  // a transition is being written (Kafka's pendingState); memory only

  txn_log_value to_value() const {
    txn_log_value v;
    v.producer_id = producer_id;
    v.producer_epoch = producer_epoch;
    v.transaction_timeout_ms = timeout_ms;
    v.state = state;
    for (const auto& tp : partitions) v.partitions[tp.topic].push_back(tp.partition);
    v.last_update_timestamp_ms = last_update_ms;
    v.start_timestamp_ms = start_ms;
    return v;
  }
  bool preparing() const { return state == txn_state::prepare_commit || state == txn_state::prepare_abort; }
};

struct transaction_manager::partition_data {
  int32_t id = 0;
  int32_t coordinator_epoch = -1;
  uint64_t generation = 0;  // which load this is: completions of an older one change nothing
  bool loaded = false;
  std::unique_ptr<txn_log_store> store;
  std::map<std::string, txn_metadata> txns;
  // Transitions appended and not yet replicated; answered not_leader by unload().
  pending_writes writes;
};

errc write_error(std::error_code e) {
  if (!e) return errc::none;
  if (e.category() != write_category()) return errc::unknown_server_error;
  switch (static_cast<write_errc>(e.value())) {
    case write_errc::ok: return errc::none;
    case write_errc::unknown_partition:
    case write_errc::not_enough_replicas:
    case write_errc::not_enough_replicas_after_append:
    case write_errc::timed_out: return errc::coordinator_not_available;
    case write_errc::not_leader:
    case write_errc::storage_error: return errc::not_coordinator;
    case write_errc::too_large:
    // Only transactional appends (TxnOffsetCommit's) can be fenced; these records are not.
    case write_errc::invalid_producer_epoch: return errc::unknown_server_error;
  }
  return errc::unknown_server_error;
}

transaction_manager::transaction_manager(txn_config cfg, sluice::clock& clock, producer_id_source ids,
                                         marker_sink markers)
    : _cfg(cfg), _clock(clock), _ids(std::move(ids)), _markers(std::move(markers)),
      _next_expiry_check_ms(clock.monotonic_ms() + cfg.remove_expired_interval_ms) {}

transaction_manager::~transaction_manager() = default;

// ---- partitions -------------------------------------------------------------------------------

void transaction_manager::begin_loading(int32_t partition) {
  auto& pd = _partitions[partition];
  if (!pd) {
    pd = std::make_unique<partition_data>();
    pd->id = partition;
  }
}

transaction_manager::partition_status transaction_manager::status(int32_t partition) const {
  auto it = _partitions.find(partition);
  if (it == _partitions.end()) return partition_status::not_owned;
  return it->second->loaded ? partition_status::loaded : partition_status::loading;
}

void transaction_manager::apply_record(partition_data& pd, const model::decoded_record& r) {
  if (!r.key) return;
  auto id = decode_txn_log_key(std::span(reinterpret_cast<const uint8_t*>(r.key->data()), r.key->size()));
  if (!id) {
    log::get("coordinator")->warn("__transaction_state-{}: skipping record at offset {} with an unknown key", pd.id,
                                  r.offset);
    return;
  }
  if (!r.value) {
    pd.txns.erase(*id);
    return;
  }
  auto v = decode_txn_log_value(std::span(reinterpret_cast<const uint8_t*>(r.value->data()), r.value->size()));
  if (!v) {
    log::get("coordinator")->warn("__transaction_state-{}: skipping malformed value at offset {}", pd.id, r.offset);
    return;
  }
  auto& t = pd.txns[*id];
  t.id = *id;
  // As Kafka 3.x on load: the last producer epoch is unknown (v0 does not store it), the last
  // producer id only when a v1 record carries it. So a lost-answer retry of a bump made just
  // before the coordinator moved is fenced rather than guessed.
  t.last_producer_id = v->previous_producer_id;
  t.last_producer_epoch = no_epoch;
  t.producer_id = v->producer_id;
  t.producer_epoch = v->producer_epoch;
  t.timeout_ms = v->transaction_timeout_ms;
  t.state = v->state;
  t.partitions.clear();
  for (const auto& [topic, ids] : v->partitions)
    for (auto p : ids) t.partitions.insert({topic, p});
  t.start_ms = v->start_timestamp_ms;
  t.last_update_ms = v->last_update_timestamp_ms;
  t.marker_retry_at_ms = 0;
}

result<void> transaction_manager::load(int32_t partition, int32_t coordinator_epoch,
                                       std::unique_ptr<txn_log_store> store) {
  begin_loading(partition);
  auto& pd = *_partitions[partition];
  // A previous store's waits die with it: answer its writes (callers load fresh partitions only).
  pd.generation = ++_generation;
  pd.writes.fail_all(make_error_code(write_errc::not_leader));
  pd.txns.clear();
  pd.coordinator_epoch = coordinator_epoch;
  auto r = store->read_all([&](const batch_info& batch, const model::decoded_record& rec) {
    if (batch.control == control_type::none) apply_record(pd, rec);
  });
  if (!r) {
    _partitions.erase(partition);
    return r.error();
  }
  pd.store = std::move(store);
  pd.loaded = true;
  // A dead id never stays in memory; Prepare* states resume their markers phase.
  std::vector<txn_metadata*> resume;
  for (auto it = pd.txns.begin(); it != pd.txns.end();) {
    if (it->second.state == txn_state::dead) {
      it = pd.txns.erase(it);
      continue;
    }
    if (it->second.preparing()) resume.push_back(&it->second);
    ++it;
  }
  for (auto* t : resume) resume_markers(pd, *t);
  return ok();
}

void transaction_manager::unload(int32_t partition) {
  auto it = _partitions.find(partition);
  if (it == _partitions.end()) return;
  auto pd = std::move(it->second);
  _partitions.erase(it);
  // Transitions still waiting for replication fail; their completions find the partition gone
  // and answer NOT_COORDINATOR.
  pd->writes.fail_all(make_error_code(write_errc::not_leader));
}

transaction_manager::partition_data* transaction_manager::owned(int32_t partition, errc& err) {
  auto it = _partitions.find(partition);
  if (it == _partitions.end()) {
    err = errc::not_coordinator;
    return nullptr;
  }
  if (!it->second->loaded) {
    err = errc::coordinator_load_in_progress;
    return nullptr;
  }
  err = errc::none;
  return it->second.get();
}

const transaction_manager::partition_data* transaction_manager::owned(int32_t partition, errc& err) const {
  return const_cast<transaction_manager*>(this)->owned(partition, err);
}

bool transaction_manager::loading() const {
  for (const auto& [_, pd] : _partitions)
    if (!pd->loaded) return true;
  return false;
}

size_t transaction_manager::txn_count() const {
  size_t n = 0;
  for (const auto& [_, pd] : _partitions)
    if (pd->loaded) n += pd->txns.size();
  return n;
}

// ---- transitions ------------------------------------------------------------------------------

transaction_manager::txn_metadata* transaction_manager::lookup(int32_t partition, uint64_t generation,
                                                                const std::string& id) {
  auto pit = _partitions.find(partition);
  if (pit == _partitions.end() || !pit->second->loaded || pit->second->generation != generation) return nullptr;
  auto it = pit->second->txns.find(id);
  return it == pit->second->txns.end() ? nullptr : &it->second;
}

void transaction_manager::persist(partition_data& pd, txn_metadata& current, const txn_metadata& next,
                                  std::function<void(errc)> then) {
  SLUICE_ASSERT(!current.pending, "a second transition for {} while one is in flight", current.id);
  model::record_data rec;
  rec.key = encode_txn_log_key(next.id);
  rec.value = encode_txn_log_value(next.to_value());
  rec.timestamp_ms = _clock.wall_ms();
  std::vector<model::record_data> recs{std::move(rec)};
  current.pending = true;
  auto done = [this, partition = pd.id, generation = pd.generation, next, then = std::move(then)](std::error_code e) {
    auto* t = lookup(partition, generation, next.id);
    if (!t) {
      then(errc::not_coordinator);  // unloaded (or reloaded) meanwhile
      return;
    }
    t->pending = false;
    if (e) {
      log::get("coordinator")->warn("__transaction_state-{}: writing {} ({}) failed: {}", partition, next.id,
                                    state_name(next.state), e.message());
      then(write_error(e));
      return;
    }
    *t = next;
    then(errc::none);
  };
  pd.writes.write(*pd.store, recs, std::move(done));
}

void transaction_manager::emit(partition_data& pd, txn_metadata& t) {
  SLUICE_ASSERT(t.preparing() && !t.partitions.empty());
  t.marker_retry_at_ms = _clock.monotonic_ms() + _cfg.marker_retry_interval_ms;
  marker_work w;
  w.txn_partition = pd.id;
  w.transactional_id = t.id;
  w.producer_id = t.producer_id;
  w.producer_epoch = t.producer_epoch;
  w.commit = t.state == txn_state::prepare_commit;
  w.coordinator_epoch = pd.coordinator_epoch;
  w.partitions.assign(t.partitions.begin(), t.partitions.end());
  _markers(w);
}

void transaction_manager::resume_markers(partition_data& pd, txn_metadata& t) {
  if (t.partitions.empty()) {
    complete(pd, t);  // nothing to mark; a failed write is retried by the next tick
  } else {
    emit(pd, t);
  }
}

void transaction_manager::complete(partition_data& pd, txn_metadata& t) {
  SLUICE_ASSERT(t.preparing());
  txn_metadata next = t;
  next.state = t.state == txn_state::prepare_commit ? txn_state::complete_commit : txn_state::complete_abort;
  next.partitions.clear();
  next.last_update_ms = _clock.wall_ms();
  // A failure leaves Prepare* (logged by persist): tick() re-emits the markers or retries.
  persist(pd, t, next, [](errc) {});
}

// Ongoing -> Prepare*, then the markers phase (or straight to Complete* with no partitions).
// `then` answers the Prepare* write.
void transaction_manager::prepare_end(partition_data& pd, txn_metadata& t, bool commit, bool bump_epoch,
                                      std::function<void(errc)> then) {
  txn_metadata next = t;
  if (bump_epoch && t.producer_epoch < max_epoch) {
    // Kafka's prepareFenceProducerEpoch: the fenced epoch is not a valid "last epoch" to retry with.
    next.last_producer_epoch = no_epoch;
    next.producer_epoch = static_cast<int16_t>(t.producer_epoch + 1);
  }
  next.state = commit ? txn_state::prepare_commit : txn_state::prepare_abort;
  next.last_update_ms = _clock.wall_ms();
  auto after = [this, partition = pd.id, generation = pd.generation, id = t.id, then = std::move(then)](errc e) {
    if (e == errc::none) {
      auto* tp = lookup(partition, generation, id);
      SLUICE_ASSERT(tp && tp->preparing());
      resume_markers(*_partitions.at(partition), *tp);
    }
    then(e);
  };
  persist(pd, t, next, std::move(after));
}

void transaction_manager::init_producer_id(int32_t partition, const init_pid_request& req,
                                           std::function<void(init_pid_response)> done) {
  init_pid_response resp;
  auto answer = [&](errc e) {
    resp.error = e;
    done(resp);
  };
  if (req.transactional_id.empty() || req.transactional_id.size() > max_string_bytes)
    return answer(errc::invalid_request);
  if (req.transaction_timeout_ms <= 0 || req.transaction_timeout_ms > _cfg.max_timeout_ms)
    return answer(errc::invalid_transaction_timeout);
  errc err;
  auto* pd = owned(partition, err);
  if (!pd) return answer(err);
  const bool kip360 = req.producer_id >= 0;
  auto it = pd->txns.find(req.transactional_id);
  txn_metadata fresh;
  txn_metadata* t = nullptr;
  if (it == pd->txns.end()) {
    auto id = _ids();
    if (!id) return answer(errc::coordinator_not_available);
    fresh.id = req.transactional_id;
    fresh.producer_id = id.value();
    fresh.timeout_ms = req.transaction_timeout_ms;
    t = &fresh;
  } else {
    t = &it->second;
  }
  if (t->pending) return answer(errc::concurrent_transactions);

  // KIP-360: a given producer id/epoch must be this id's current one (or the previous one,
  // retried after an id rotation whose answer was lost).
  if (kip360 && t->producer_epoch != no_epoch && req.producer_id != t->producer_id &&
      !(req.producer_id == t->last_producer_id && epoch_exhausted(req.producer_epoch)))
    return answer(errc::producer_fenced);

  switch (t->state) {
    case txn_state::prepare_commit:
    case txn_state::prepare_abort:
      return answer(errc::concurrent_transactions);  // retry once the markers are written
    case txn_state::ongoing:
    case txn_state::prepare_epoch_fence:
      // The previous instance's transaction is aborted with a bumped epoch (fencing it); the
      // caller retries and gets its own bump once the abort completed.
      prepare_end(*pd, *t, false, true, [done](errc e) {
        init_pid_response r;
        r.error = e == errc::none ? errc::concurrent_transactions : e;
        done(r);
      });
      return;
    case txn_state::empty:
    case txn_state::complete_commit:
    case txn_state::complete_abort:
    case txn_state::dead:
      break;
  }

  txn_metadata next = *t;
  next.timeout_ms = req.transaction_timeout_ms;
  next.partitions.clear();
  next.state = txn_state::empty;
  next.start_ms = -1;
  next.last_update_ms = _clock.wall_ms();
  const bool expected_current = !kip360 || req.producer_epoch == t->producer_epoch || t->producer_epoch == no_epoch;
  if (epoch_exhausted(t->producer_epoch) && expected_current) {
    auto id = _ids();
    if (!id) return answer(errc::coordinator_not_available);
    next.last_producer_id = t->producer_id;
    next.last_producer_epoch = kip360 ? t->producer_epoch : no_epoch;
    next.producer_id = id.value();
    next.producer_epoch = 0;
  } else if (expected_current) {
    next.last_producer_epoch = t->producer_epoch;
    next.producer_epoch = static_cast<int16_t>(t->producer_epoch + 1);
  } else if (req.producer_epoch == t->last_producer_epoch) {
    // A retry of a bump whose answer was lost: the current id/epoch again, nothing written.
    resp.producer_id = t->producer_id;
    resp.producer_epoch = t->producer_epoch;
    return answer(errc::none);
  } else {
    return answer(errc::producer_fenced);
  }

  const bool is_new = t == &fresh;
  if (is_new) {
    // As Kafka, the new id is in the cache (pending, epoch -1) while its first write is in flight,
    // so concurrent requests for it wait; it is dropped again if that write fails.
    auto& slot = pd->txns[req.transactional_id];
    slot = fresh;
    slot.producer_epoch = no_epoch;
    t = &slot;
  }
  auto after = [this, partition, generation = pd->generation, id = req.transactional_id, is_new, next,
                done = std::move(done)](errc e) {
    init_pid_response r;
    r.error = e;
    if (e == errc::none) {
      r.producer_id = next.producer_id;
      r.producer_epoch = next.producer_epoch;
    } else if (is_new) {
      if (auto* slot = lookup(partition, generation, id); slot && slot->producer_epoch == no_epoch && !slot->pending)
        _partitions.at(partition)->txns.erase(id);
    }
    done(r);
  };
  persist(*pd, *t, next, std::move(after));
}

transaction_manager::txn_metadata* transaction_manager::usable(partition_data& pd, const std::string& transactional_id,
                                                               int64_t producer_id, int16_t producer_epoch, errc& err) {
  auto it = pd.txns.find(transactional_id);
  if (it == pd.txns.end() || it->second.producer_id != producer_id) {
    err = errc::invalid_producer_id_mapping;
    return nullptr;
  }
  auto& t = it->second;
  if (t.producer_epoch != producer_epoch) {
    err = errc::producer_fenced;
    return nullptr;
  }
  if (t.pending) {
    err = errc::concurrent_transactions;
    return nullptr;
  }
  err = errc::none;
  return &t;
}

void transaction_manager::add(int32_t partition, const std::string& transactional_id, int64_t producer_id,
                              int16_t producer_epoch, const std::vector<topic_partition>& partitions,
                              std::function<void(errc)> done) {
  if (transactional_id.empty()) return done(errc::invalid_request);
  // The record stores topics as int16-length strings; Kafka's topic names are far shorter anyway.
  for (const auto& tp : partitions)
    if (tp.topic.empty() || tp.topic.size() > max_string_bytes) return done(errc::invalid_request);
  errc err;
  auto* pd = owned(partition, err);
  if (!pd) return done(err);
  auto* tp = usable(*pd, transactional_id, producer_id, producer_epoch, err);
  if (!tp) return done(err);
  auto& t = *tp;
  if (t.preparing() || t.state == txn_state::prepare_epoch_fence) return done(errc::concurrent_transactions);
  if (t.state == txn_state::dead) return done(errc::invalid_txn_state);
  if (t.state == txn_state::ongoing &&
      std::all_of(partitions.begin(), partitions.end(), [&](const auto& p) { return t.partitions.count(p) > 0; }))
    return done(errc::none);
  txn_metadata next = t;
  if (t.state != txn_state::ongoing) {
    next.partitions.clear();
    next.start_ms = _clock.wall_ms();
  }
  next.state = txn_state::ongoing;
  next.partitions.insert(partitions.begin(), partitions.end());
  next.last_update_ms = _clock.wall_ms();
  persist(*pd, t, next, std::move(done));
}

void transaction_manager::add_partitions(int32_t partition, const std::string& transactional_id, int64_t producer_id,
                                         int16_t producer_epoch, const std::vector<topic_partition>& partitions,
                                         std::function<void(errc)> done) {
  add(partition, transactional_id, producer_id, producer_epoch, partitions, std::move(done));
}

void transaction_manager::add_offsets(int32_t partition, const std::string& transactional_id, int64_t producer_id,
                                      int16_t producer_epoch, int32_t offsets_partition, std::function<void(errc)> done) {
  std::vector<topic_partition> tps{{consumer_offsets_topic, offsets_partition}};
  add(partition, transactional_id, producer_id, producer_epoch, tps, std::move(done));
}

void transaction_manager::end_txn(int32_t partition, const std::string& transactional_id, int64_t producer_id,
                                  int16_t producer_epoch, bool commit, std::function<void(errc)> done) {
  if (transactional_id.empty()) return done(errc::invalid_request);
  errc err;
  auto* pd = owned(partition, err);
  if (!pd) return done(err);
  auto* tp = usable(*pd, transactional_id, producer_id, producer_epoch, err);
  if (!tp) return done(err);
  auto& t = *tp;
  switch (t.state) {
    case txn_state::ongoing:
      prepare_end(*pd, t, commit, false, std::move(done));
      return;
    case txn_state::complete_commit:
      return done(commit ? errc::none : errc::invalid_txn_state);  // a retry of a finished commit
    case txn_state::complete_abort:
      return done(commit ? errc::invalid_txn_state : errc::none);
    case txn_state::prepare_commit:
      return done(commit ? errc::concurrent_transactions : errc::invalid_txn_state);
    case txn_state::prepare_abort:
      return done(commit ? errc::invalid_txn_state : errc::concurrent_transactions);
    case txn_state::prepare_epoch_fence:
      return done(errc::concurrent_transactions);
    case txn_state::empty:
    case txn_state::dead:
      return done(errc::invalid_txn_state);
  }
  done(errc::invalid_txn_state);
}

bool transaction_manager::awaits_markers(const marker_work& work) const {
  auto pit = _partitions.find(work.txn_partition);
  if (pit == _partitions.end() || !pit->second->loaded || pit->second->coordinator_epoch != work.coordinator_epoch)
    return false;
  const auto& pd = *pit->second;
  auto it = pd.txns.find(work.transactional_id);
  if (it == pd.txns.end()) return false;
  const auto& t = it->second;
  const auto want = work.commit ? txn_state::prepare_commit : txn_state::prepare_abort;
  return !t.pending && t.state == want && t.producer_id == work.producer_id && t.producer_epoch == work.producer_epoch;
}

bool transaction_manager::markers_written(const marker_work& work) {
  if (!awaits_markers(work)) return false;
  auto& pd = *_partitions.at(work.txn_partition);
  complete(pd, pd.txns.at(work.transactional_id));
  return true;
}

errc transaction_manager::verify(int32_t partition, const std::string& transactional_id, int64_t producer_id,
                                 int16_t producer_epoch, const topic_partition& tp) const {
  errc err;
  const auto* pd = owned(partition, err);
  if (!pd) return err;
  auto it = pd->txns.find(transactional_id);
  if (it == pd->txns.end() || it->second.producer_id != producer_id) return errc::invalid_producer_id_mapping;
  const auto& t = it->second;
  if (t.producer_epoch != producer_epoch) return errc::producer_fenced;
  if (t.pending || t.preparing()) return errc::concurrent_transactions;
  if (t.state != txn_state::ongoing || t.partitions.count(tp) == 0) return errc::invalid_txn_state;
  return errc::none;
}

void transaction_manager::expire_ids(partition_data& pd, int64_t wall) {
  std::vector<std::string> expired;
  for (const auto& [id, t] : pd.txns) {
    const bool idle = t.state == txn_state::empty || t.state == txn_state::complete_commit ||
                      t.state == txn_state::complete_abort;
    if (idle && !t.pending && t.last_update_ms <= wall - _cfg.id_expiration_ms) expired.push_back(id);
  }
  if (expired.empty()) return;
  std::vector<model::record_data> tombstones;
  for (const auto& id : expired) {
    model::record_data rec;
    rec.key = encode_txn_log_key(id);
    rec.timestamp_ms = wall;
    tombstones.push_back(std::move(rec));
    pd.txns[id].pending = true;  // no transition starts before the tombstone is decided
  }
  auto done = [this, partition = pd.id, generation = pd.generation, expired](std::error_code e) {
    auto pit = _partitions.find(partition);
    if (pit == _partitions.end() || pit->second->generation != generation) return;
    auto& p = *pit->second;
    if (e)
      log::get("coordinator")->warn("__transaction_state-{}: writing {} expiry tombstones failed: {}", partition,
                                    expired.size(), e.message());
    for (const auto& id : expired) {
      auto it = p.txns.find(id);
      if (it == p.txns.end()) continue;
      if (e) it->second.pending = false;  // kept; the next check retries
      else p.txns.erase(it);
    }
    if (!e) log::get("coordinator")->info("__transaction_state-{}: expired {} transactional ids", partition, expired.size());
  };
  pd.writes.write(*pd.store, tombstones, std::move(done));
}

void transaction_manager::tick() {
  const int64_t wall = _clock.wall_ms();
  const int64_t mono = _clock.monotonic_ms();
  const bool expiry_due = mono >= _next_expiry_check_ms;
  if (expiry_due) _next_expiry_check_ms = mono + _cfg.remove_expired_interval_ms;
  for (auto& [_, pdp] : _partitions) {
    auto& pd = *pdp;
    if (!pd.loaded) continue;
    if (expiry_due) expire_ids(pd, wall);
    std::vector<std::string> timed_out;
    std::vector<std::string> retry;
    for (auto& [id, t] : pd.txns) {
      if (t.pending) continue;
      if ((t.state == txn_state::ongoing || t.state == txn_state::prepare_epoch_fence) && t.start_ms >= 0 &&
          t.start_ms + t.timeout_ms < wall)
        timed_out.push_back(id);
      else if (t.preparing() && t.marker_retry_at_ms <= mono)
        retry.push_back(id);
    }
    // By id, looked up again: a write completing synchronously may change the map.
    for (const auto& id : timed_out) {
      auto it = pd.txns.find(id);
      if (it == pd.txns.end() || it->second.pending) continue;
      auto& t = it->second;
      log::get("coordinator")->info("__transaction_state-{}: aborting {} (producer id {}, epoch {}): open longer than {} ms",
                                    pd.id, t.id, t.producer_id, t.producer_epoch, t.timeout_ms);
      prepare_end(pd, t, false, true, [](errc) {});
    }
    for (const auto& id : retry) {
      auto it = pd.txns.find(id);
      if (it == pd.txns.end() || it->second.pending || !it->second.preparing()) continue;
      resume_markers(pd, it->second);
    }
  }
}

// ---- queries ----------------------------------------------------------------------------------

described_txn transaction_manager::describe(int32_t partition, const std::string& transactional_id) const {
  described_txn d;
  d.transactional_id = transactional_id;
  errc err;
  const auto* pd = owned(partition, err);
  if (!pd) {
    d.error = err;
    return d;
  }
  auto it = pd->txns.find(transactional_id);
  if (it == pd->txns.end()) {
    d.error = errc::transactional_id_not_found;
    return d;
  }
  const auto& t = it->second;
  d.state = state_name(t.state);
  d.producer_id = t.producer_id;
  d.producer_epoch = t.producer_epoch;
  d.transaction_timeout_ms = t.timeout_ms;
  d.start_timestamp_ms = t.start_ms;
  d.partitions.assign(t.partitions.begin(), t.partitions.end());
  return d;
}

std::vector<listed_txn> transaction_manager::list(const std::vector<std::string>& states,
                                                  const std::vector<int64_t>& producer_ids,
                                                  int64_t min_duration_ms) const {
  const int64_t now = _clock.wall_ms();
  std::vector<listed_txn> out;
  for (const auto& [_, pd] : _partitions) {
    if (!pd->loaded) continue;
    for (const auto& [id, t] : pd->txns) {
      const std::string name = state_name(t.state);
      if (!states.empty() && std::find(states.begin(), states.end(), name) == states.end()) continue;
      if (!producer_ids.empty() && std::find(producer_ids.begin(), producer_ids.end(), t.producer_id) == producer_ids.end())
        continue;
      if (min_duration_ms >= 0 && (t.start_ms < 0 || now - t.start_ms <= min_duration_ms)) continue;
      out.push_back({id, t.producer_id, name});
    }
  }
  return out;
}

}  // namespace sluice::coordinator::txn
