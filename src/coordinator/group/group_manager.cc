#include "coordinator/group/group_manager.h"

#include <algorithm>
#include <cctype>
#include <random>

#include <fmt/format.h>

#include "base/endian.h"
#include "base/logging.h"
#include "coordinator/pending_writes.h"

namespace sluice::coordinator::group {

const char* state_name(group_state s) {
  switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
  }
  return "Unknown";
}

namespace {
constexpr const char* consumer_protocol_type = "consumer";

// The topics of a ConsumerProtocolSubscription (any version: version int16, topics []string
// come first). nullopt if it does not parse.
std::optional<std::set<std::string>> subscription_topics(const std::vector<uint8_t>& b) {
  size_t pos = 0;
  auto need = [&](size_t n) { return b.size() - pos >= n; };
  if (!need(6)) return std::nullopt;
  pos += 2;
  auto n = load_be<int32_t>(b.data() + pos);
  pos += 4;
  if (n < 0 || static_cast<size_t>(n) > b.size()) return std::nullopt;
  std::set<std::string> out;
  for (int32_t i = 0; i < n; ++i) {
    if (!need(2)) return std::nullopt;
    auto len = load_be<int16_t>(b.data() + pos);
    pos += 2;
    if (len < 0 || !need(static_cast<size_t>(len))) return std::nullopt;
    out.emplace(reinterpret_cast<const char*>(b.data() + pos), static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
  }
  return out;
}

// A failed offset commit write, as Kafka's GroupMetadataManager.storeOffsets answers it.
errc commit_write_error(std::error_code e) {
  if (e.category() != write_category()) return errc::coordinator_not_available;
  switch (static_cast<write_errc>(e.value())) {
    case write_errc::invalid_producer_epoch: return errc::invalid_producer_epoch;  // passed through
    case write_errc::not_leader:
    case write_errc::storage_error: return errc::not_coordinator;
    case write_errc::too_large: return errc::invalid_commit_offset_size;
    case write_errc::ok:
    case write_errc::unknown_partition:
    case write_errc::not_enough_replicas:
    case write_errc::not_enough_replicas_after_append:
    case write_errc::timed_out: break;
  }
  return errc::coordinator_not_available;
}

// A failed group metadata write, as Kafka's GroupMetadataManager.storeGroup answers it: a
// timeout means the next rebalance will try again.
errc group_write_error(std::error_code e) {
  if (e.category() != write_category()) return errc::coordinator_not_available;
  switch (static_cast<write_errc>(e.value())) {
    case write_errc::not_leader:
    case write_errc::storage_error: return errc::not_coordinator;
    case write_errc::timed_out: return errc::rebalance_in_progress;
    case write_errc::too_large: return errc::unknown_server_error;
    case write_errc::invalid_producer_epoch:  // not a group metadata write
    case write_errc::ok:
    case write_errc::unknown_partition:
    case write_errc::not_enough_replicas:
    case write_errc::not_enough_replicas_after_append: break;
  }
  return errc::coordinator_not_available;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

struct group_manager::member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<protocol_entry> protocols;  // in the member's order of preference
  std::vector<uint8_t> assignment;
  int64_t heartbeat_deadline_ms = 0;  // monotonic
  bool is_new = false;                // joined, no generation yet (NewMemberJoinTimeoutMs applies)
  std::function<void(join_response)> join_cb;
  std::function<void(sync_response)> sync_cb;

  const std::vector<uint8_t>* metadata_for(const std::string& p) const {
    for (const auto& e : protocols)
      if (e.name == p) return &e.metadata;
    return nullptr;
  }
  bool matches(const std::vector<protocol_entry>& other) const {
    if (other.size() != protocols.size()) return false;
    for (size_t i = 0; i < other.size(); ++i)
      if (other[i].name != protocols[i].name || other[i].metadata != protocols[i].metadata) return false;
    return true;
  }
};

// A committed (or pending transactional) offset and where its record is in the log: the base
// offset of its batch (Kafka's appendedBatchOffset), which decides between a transactional
// commit and a plain commit of the same partition written after it.
struct committed_offset {
  offset_commit_value value;
  int64_t log_offset = -1;
};

struct group_manager::group {
  std::string id;
  group_state state = group_state::empty;
  int32_t generation = 0;
  std::string protocol_type;  // "" = no group management (offsets only)
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  std::map<std::string, member> members;               // by member id
  std::map<std::string, std::string> static_members;   // group.instance.id -> member id
  std::map<std::string, int64_t> pending_members;      // handed out with MEMBER_ID_REQUIRED -> deadline
  std::set<std::string> pending_sync;                  // of this generation, not synced yet
  int64_t state_timestamp_ms = -1;                     // wall time of the last state change
  int64_t join_deadline_ms = 0;
  bool initial_delay = false;
  int64_t initial_delay_remaining_ms = 0;
  bool new_member_added = false;
  int64_t sync_deadline_ms = 0;
  std::map<topic_partition_id, committed_offset> offsets;
  // Transactional offsets not decided by a marker yet: producer id -> partition -> offset.
  std::map<int64_t, std::map<topic_partition_id, committed_offset>> pending_txn;

  bool has_pending_txn(const topic_partition_id& tp) const {
    for (const auto& [_, offs] : pending_txn)
      if (offs.count(tp)) return true;
    return false;
  }

  bool has(const std::string& m) const { return members.count(m) > 0; }
  bool static_fenced(const std::optional<std::string>& instance, const std::string& member_id) const {
    if (!instance) return false;
    auto it = static_members.find(*instance);
    return it != static_members.end() && it->second != member_id;
  }
  int32_t rebalance_timeout_ms() const {
    int32_t t = 0;
    for (const auto& [_, m] : members) t = std::max(t, m.rebalance_timeout_ms);
    return t;
  }
};

struct group_manager::partition_data {
  int32_t id = 0;
  bool loaded = false;
  std::unique_ptr<offsets_store> store;
  std::map<std::string, std::unique_ptr<group>> groups;
  // Writes appended and not yet replicated. Answered by unload() with write_errc::not_leader,
  // since the store drops its waits when it is destroyed.
  coordinator::pending_writes writes;
  // Producer id -> groups that may hold pending transactional offsets of it (Kafka's
  // openGroupsForProducer), so a marker finds them without scanning every group.
  std::map<int64_t, std::set<std::string>> producer_groups;
};

group_manager::group_manager(group_config cfg, sluice::clock& clock) : _cfg(cfg), _clock(clock) {
  std::random_device rd;
  _id_salt = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  _next_expiry_check_ms = _clock.monotonic_ms() + _cfg.retention_check_interval_ms;
}

group_manager::~group_manager() = default;

// ---- partitions -------------------------------------------------------------------------------

void group_manager::begin_loading(int32_t partition) {
  auto& pd = _partitions[partition];
  if (!pd) {
    pd = std::make_unique<partition_data>();
    pd->id = partition;
  }
}

group_manager::partition_status group_manager::status(int32_t partition) const {
  auto it = _partitions.find(partition);
  if (it == _partitions.end()) return partition_status::not_owned;
  return it->second->loaded ? partition_status::loaded : partition_status::loading;
}

void group_manager::apply_record(partition_data& pd, const batch_info& batch, const model::decoded_record& r) {
  if (batch.control != control_type::none) {
    // The producer's transaction ended here: its offsets written before are decided.
    complete_pending_txn(pd, batch.producer_id, batch.control == control_type::commit);
    return;
  }
  if (!r.key) return;
  auto key_bytes = std::span(reinterpret_cast<const uint8_t*>(r.key->data()), r.key->size());
  auto key = decode_offsets_key(key_bytes);
  if (!key) {
    log::get("coordinator")->warn("__consumer_offsets-{}: skipping record at offset {} with an unknown key", pd.id, r.offset);
    return;
  }
  if (!key->is_group) {
    topic_partition_id tp{key->offset.topic, key->offset.partition};
    const bool txn = batch.transactional && batch.producer_id >= 0;
    if (!r.value) {
      if (auto* g = find_group(pd, key->group)) {
        if (txn) {
          auto it = g->pending_txn.find(batch.producer_id);
          if (it != g->pending_txn.end()) it->second.erase(tp);
        } else {
          g->offsets.erase(tp);
        }
      }
      return;
    }
    auto v = decode_offset_commit_value(std::span(reinterpret_cast<const uint8_t*>(r.value->data()), r.value->size()));
    if (!v) {
      log::get("coordinator")->warn("__consumer_offsets-{}: skipping malformed offset commit at offset {}", pd.id, r.offset);
      return;
    }
    auto& g = get_or_create(pd, key->group);
    committed_offset c{*v, batch.base_offset >= 0 ? batch.base_offset : r.offset};
    if (txn) {
      g.pending_txn[batch.producer_id][tp] = std::move(c);
      pd.producer_groups[batch.producer_id].insert(key->group);
    } else {
      g.offsets[tp] = std::move(c);
    }
    return;
  }
  if (!r.value) {
    // Group deleted: its metadata goes; offsets have their own tombstones.
    auto it = pd.groups.find(key->group);
    if (it != pd.groups.end()) {
      auto offsets = std::move(it->second->offsets);
      auto pending = std::move(it->second->pending_txn);
      pd.groups.erase(it);
      if (!offsets.empty() || !pending.empty()) {
        auto& g = get_or_create(pd, key->group);
        g.offsets = std::move(offsets);
        g.pending_txn = std::move(pending);
      }
    }
    return;
  }
  auto v = decode_group_metadata_value(std::span(reinterpret_cast<const uint8_t*>(r.value->data()), r.value->size()));
  if (!v) {
    log::get("coordinator")->warn("__consumer_offsets-{}: skipping malformed group metadata at offset {}", pd.id, r.offset);
    return;
  }
  auto& g = get_or_create(pd, key->group);
  g.protocol_type = v->protocol_type;
  g.generation = v->generation;
  g.protocol = v->protocol;
  g.leader = v->leader;
  g.state_timestamp_ms = v->current_state_timestamp_ms;
  g.members.clear();
  g.static_members.clear();
  const int64_t now = _clock.monotonic_ms();
  for (auto& mr : v->members) {
    member m;
    m.id = mr.member_id;
    m.instance_id = mr.group_instance_id;
    m.client_id = mr.client_id;
    m.client_host = mr.client_host;
    m.session_timeout_ms = mr.session_timeout_ms;
    m.rebalance_timeout_ms = mr.rebalance_timeout_ms;
    m.protocol_type = v->protocol_type;
    if (v->protocol) m.protocols.push_back({*v->protocol, mr.subscription});
    m.assignment = mr.assignment;
    m.heartbeat_deadline_ms = now + m.session_timeout_ms;
    if (m.instance_id) g.static_members[*m.instance_id] = m.id;
    g.members.emplace(m.id, std::move(m));
  }
  g.state = g.members.empty() ? group_state::empty : group_state::stable;
}

result<void> group_manager::load(int32_t partition, std::unique_ptr<offsets_store> store) {
  begin_loading(partition);
  auto& pd = *_partitions[partition];
  // A previous store's waits die with it: answer its writes (callers load fresh partitions only).
  pd.writes.fail_all(make_error_code(write_errc::not_leader));
  pd.groups.clear();
  pd.producer_groups.clear();
  pd.store = std::move(store);
  auto r = pd.store->read_all(
      [&](const batch_info& batch, const model::decoded_record& rec) { apply_record(pd, batch, rec); });
  if (!r) {
    pd.groups.clear();
    pd.producer_groups.clear();
    return r;
  }
  pd.loaded = true;
  log::get("coordinator")->info("loaded {} groups from __consumer_offsets-{}", pd.groups.size(), partition);
  return ok();
}

// Answers a member's parked JoinGroup / SyncGroup, if any, with `e`.
void group_manager::fail_pending_calls(member& m, const std::string& member_id, errc e) {
  if (m.join_cb) {
    join_response r;
    r.error = e;
    r.member_id = member_id;
    std::exchange(m.join_cb, nullptr)(std::move(r));
  }
  if (m.sync_cb) {
    sync_response r;
    r.error = e;
    std::exchange(m.sync_cb, nullptr)(std::move(r));
  }
}

void group_manager::unload(int32_t partition) {
  auto it = _partitions.find(partition);
  if (it == _partitions.end()) return;
  auto pd = std::move(it->second);
  _partitions.erase(it);
  // Writes still waiting for replication fail: no longer the leader (their completions find the
  // partition gone and change nothing).
  pd->writes.fail_all(make_error_code(write_errc::not_leader));
  for (auto& [_, g] : pd->groups)
    for (auto& [id, m] : g->members) fail_pending_calls(m, id, errc::not_coordinator);
}

void group_manager::write(partition_data& pd, const std::vector<model::record_data>& records,
                          std::function<void(std::error_code)> done) {
  pd.writes.write(*pd.store, records, std::move(done));
}

result<int64_t> group_manager::append_records(partition_data& pd, const std::vector<model::record_data>& records,
                                              const txn_producer* txn) {
  auto appended = txn ? pd.store->append_transactional(records, txn->producer_id, txn->producer_epoch)
                      : pd.store->append(records);
  if (!appended) return appended.error();
  // One batch: its records take the offsets just below the end offset.
  return *appended - static_cast<int64_t>(records.size());
}

group_manager::partition_data* group_manager::owned(int32_t partition, errc& err) {
  auto it = _partitions.find(partition);
  if (it == _partitions.end()) {
    err = errc::not_coordinator;
    return nullptr;
  }
  if (!it->second->loaded) {
    err = errc::coordinator_load_in_progress;
    return nullptr;
  }
  return it->second.get();
}

group_manager::group* group_manager::find_group(partition_data& pd, const std::string& id) {
  auto it = pd.groups.find(id);
  return it == pd.groups.end() ? nullptr : it->second.get();
}

group_manager::group& group_manager::get_or_create(partition_data& pd, const std::string& id) {
  auto& g = pd.groups[id];
  if (!g) {
    g = std::make_unique<group>();
    g->id = id;
    g->state_timestamp_ms = _clock.wall_ms();
  }
  return *g;
}

bool group_manager::loading() const {
  for (const auto& [_, pd] : _partitions)
    if (!pd->loaded) return true;
  return false;
}

size_t group_manager::group_count() const {
  size_t n = 0;
  for (const auto& [_, pd] : _partitions) n += pd->groups.size();
  return n;
}

// ---- helpers ----------------------------------------------------------------------------------

std::string group_manager::new_member_id(const std::string& client_id, const std::optional<std::string>& instance_id) {
  // Kafka: clientId (or group.instance.id) + "-" + a random UUID.
  std::mt19937_64 rng(_id_salt ^ (++_member_seq * 0x9E3779B97F4A7C15ULL));
  uint64_t a = rng(), b = rng();
  auto uuid = fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", static_cast<uint32_t>(a >> 32),
                          static_cast<uint32_t>((a >> 16) & 0xffff), static_cast<uint32_t>(a & 0xfff),
                          static_cast<uint32_t>(0x8000 | ((b >> 48) & 0x3fff)), b & 0xffffffffffffULL);
  return (instance_id ? *instance_id : client_id) + "-" + uuid;
}

void group_manager::transition(group& g, group_state s) {
  g.state = s;
  g.state_timestamp_ms = _clock.wall_ms();
}

void group_manager::refresh_heartbeat(const group&, member& m) {
  m.heartbeat_deadline_ms = _clock.monotonic_ms() + m.session_timeout_ms;
}

bool group_manager::supports_protocols(const group& g, const std::string& type,
                                       const std::vector<protocol_entry>& protocols) const {
  if (g.members.empty()) return !type.empty() && !protocols.empty();
  if (g.protocol_type != type) return false;
  for (const auto& p : protocols) {
    bool all = true;
    for (const auto& [_, m] : g.members)
      if (!m.metadata_for(p.name)) {
        all = false;
        break;
      }
    if (all) return true;
  }
  return false;
}

std::optional<std::string> group_manager::select_protocol(const group& g) const {
  if (g.members.empty()) return std::nullopt;
  // Candidates: protocols every member supports, in the first member's order of preference.
  std::vector<std::string> candidates;
  for (const auto& p : g.members.begin()->second.protocols) {
    bool all = true;
    for (const auto& [_, m] : g.members)
      if (!m.metadata_for(p.name)) all = false;
    if (all) candidates.push_back(p.name);
  }
  if (candidates.empty()) return std::nullopt;
  // Each member votes for its most preferred candidate; most votes wins.
  std::map<std::string, int> votes;
  for (const auto& [_, m] : g.members)
    for (const auto& p : m.protocols)
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
  std::string best = candidates.front();
  for (const auto& c : candidates)
    if (votes[c] > votes[best]) best = c;
  return best;
}

bool group_manager::all_joined(const group& g) const {
  if (!g.pending_members.empty()) return false;
  for (const auto& [_, m] : g.members)
    if (!m.join_cb) return false;
  return true;
}

void group_manager::store_group(partition_data& pd, group& g,
                                const std::vector<std::pair<std::string, std::vector<uint8_t>>>* assignments,
                                std::function<void(std::error_code)> done) {
  group_metadata_value v;
  v.protocol_type = g.protocol_type;
  v.generation = g.generation;
  v.protocol = g.protocol;
  v.leader = g.leader;
  v.current_state_timestamp_ms = g.state_timestamp_ms;
  for (const auto& [id, m] : g.members) {
    member_metadata_record r;
    r.member_id = id;
    r.group_instance_id = m.instance_id;
    r.client_id = m.client_id;
    r.client_host = m.client_host;
    r.rebalance_timeout_ms = m.rebalance_timeout_ms;
    r.session_timeout_ms = m.session_timeout_ms;
    if (g.protocol)
      if (const auto* md = m.metadata_for(*g.protocol)) r.subscription = *md;
    if (!assignments) {
      r.assignment = m.assignment;
    } else {
      // The leader's new assignment; members it did not mention get an empty one.
      for (const auto& [aid, a] : *assignments)
        if (aid == id) r.assignment = a;
    }
    v.members.push_back(std::move(r));
  }
  model::record_data rec;
  rec.key = encode_group_metadata_key(g.id);
  rec.value = encode_group_metadata_value(v);
  rec.timestamp_ms = _clock.wall_ms();
  std::vector<model::record_data> recs{std::move(rec)};
  write(pd, recs, [group_id = g.id, done = std::move(done)](std::error_code e) {
    if (e) log::get("coordinator")->error("group {}: writing group metadata failed: {}", group_id, e.message());
    done(e);
  });
}

// ---- rebalance --------------------------------------------------------------------------------

void group_manager::prepare_rebalance(partition_data& pd, group& g, const char* reason) {
  if (g.state == group_state::completing_rebalance) propagate_sync_error(g, errc::rebalance_in_progress);
  g.pending_sync.clear();
  const bool from_empty = g.state == group_state::empty;
  const int64_t now = _clock.monotonic_ms();
  transition(g, group_state::preparing_rebalance);
  log::get("coordinator")->info("group {}: preparing to rebalance (generation {}): {}", g.id, g.generation, reason);
  if (from_empty && _cfg.initial_rebalance_delay_ms > 0) {
    // group.initial.rebalance.delay.ms: wait for more members before the first generation,
    // extending while new ones arrive, up to the rebalance timeout.
    g.initial_delay = true;
    g.new_member_added = false;
    g.join_deadline_ms = now + _cfg.initial_rebalance_delay_ms;
    g.initial_delay_remaining_ms = std::max<int64_t>(g.rebalance_timeout_ms() - _cfg.initial_rebalance_delay_ms, 0);
    return;
  }
  g.initial_delay = false;
  g.join_deadline_ms = now + g.rebalance_timeout_ms();
  maybe_complete_join(pd, g);
}

void group_manager::maybe_complete_join(partition_data& pd, group& g) {
  if (g.state != group_state::preparing_rebalance || g.initial_delay) return;
  if (all_joined(g)) complete_join(pd, g);
}

void group_manager::complete_join(partition_data& pd, group& g) {
  // Dynamic members that did not rejoin in time are gone; static ones stay until their session
  // times out (KIP-345).
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members)
    if (!m.join_cb && !m.instance_id) gone.push_back(id);
  for (const auto& id : gone) remove_member(pd, g, id, "did not rejoin before the rebalance timeout");
  g.initial_delay = false;

  if (!g.members.empty()) {
    // The leader must be among the members that rejoined.
    bool leader_joined = g.leader && g.has(*g.leader) && g.members.at(*g.leader).join_cb;
    if (!leader_joined) {
      g.leader.reset();
      for (const auto& [id, m] : g.members)
        if (m.join_cb) {
          g.leader = id;
          break;
        }
    }
    if (!g.leader) {
      // Nobody rejoined: wait another rebalance timeout for session timeouts to clear them.
      g.join_deadline_ms = _clock.monotonic_ms() + g.rebalance_timeout_ms();
      return;
    }
  }

  ++g.generation;
  if (g.members.empty()) {
    g.protocol.reset();
    g.leader.reset();
    transition(g, group_state::empty);
    log::get("coordinator")->info("group {}: generation {} is empty", g.id, g.generation);
    // Nobody waits for this write (Kafka only logs its failure); store_group logs it.
    store_group(pd, g, nullptr, [](std::error_code) {});
    return;
  }
  g.protocol = select_protocol(g);
  transition(g, group_state::completing_rebalance);
  log::get("coordinator")->info("group {}: generation {} with {} members, protocol {}, leader {}", g.id, g.generation,
                                g.members.size(), g.protocol.value_or(""), *g.leader);
  std::vector<join_member> all;
  for (const auto& [id, m] : g.members) {
    join_member jm;
    jm.member_id = id;
    jm.group_instance_id = m.instance_id;
    if (const auto* md = m.metadata_for(*g.protocol)) jm.metadata = *md;
    all.push_back(std::move(jm));
  }
  const int64_t now = _clock.monotonic_ms();
  g.sync_deadline_ms = now + g.rebalance_timeout_ms();
  // Answer after the state is final: a callback may not re-enter, but keep it simple to reason.
  std::vector<std::pair<std::function<void(join_response)>, join_response>> answers;
  for (auto& [id, m] : g.members) {
    m.is_new = false;
    m.heartbeat_deadline_ms = now + m.session_timeout_ms;
    g.pending_sync.insert(id);
    if (!m.join_cb) continue;
    join_response r;
    r.generation_id = g.generation;
    r.protocol_name = *g.protocol;
    r.leader = *g.leader;
    r.member_id = id;
    if (id == *g.leader) r.members = all;
    answers.emplace_back(std::exchange(m.join_cb, nullptr), std::move(r));
  }
  for (auto& [cb, r] : answers) cb(std::move(r));
}

void group_manager::remove_pending_sync(group& g, const std::string& member_id) { g.pending_sync.erase(member_id); }

void group_manager::remove_member(partition_data&, group& g, const std::string& member_id, const char* reason) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  log::get("coordinator")->info("group {}: member {} removed: {}", g.id, member_id, reason);
  auto node = g.members.extract(it);
  member& m = node.mapped();
  if (m.instance_id) {
    auto s = g.static_members.find(*m.instance_id);
    if (s != g.static_members.end() && s->second == member_id) g.static_members.erase(s);
  }
  g.pending_sync.erase(member_id);
  if (g.leader == member_id) {
    g.leader.reset();
    if (!g.members.empty()) g.leader = g.members.begin()->first;
  }
  fail_pending_calls(m, member_id, errc::unknown_member_id);
}

void group_manager::propagate_sync_error(group& g, errc e) {
  for (auto& [_, m] : g.members) {
    m.assignment.clear();
    if (m.sync_cb) {
      sync_response r;
      r.error = e;
      std::exchange(m.sync_cb, nullptr)(std::move(r));
    }
  }
}

void group_manager::set_and_propagate_assignment(
    partition_data&, group& g, const std::vector<std::pair<std::string, std::vector<uint8_t>>>& assignments) {
  for (auto& [_, m] : g.members) m.assignment.clear();
  for (const auto& [id, a] : assignments) {
    auto it = g.members.find(id);
    if (it != g.members.end()) it->second.assignment = a;
  }
  const int64_t now = _clock.monotonic_ms();
  for (auto& [_, m] : g.members) {
    m.heartbeat_deadline_ms = now + m.session_timeout_ms;
    if (m.sync_cb) {
      sync_response r;
      r.assignment = m.assignment;
      std::exchange(m.sync_cb, nullptr)(std::move(r));
    }
  }
}

// ---- JoinGroup --------------------------------------------------------------------------------

void group_manager::add_member_and_rebalance(partition_data& pd, group& g, const join_request& req,
                                             const std::string& member_id, std::function<void(join_response)> done) {
  member m;
  m.id = member_id;
  m.instance_id = req.group_instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.protocol_type = req.protocol_type;
  m.protocols = req.protocols;
  m.is_new = true;
  m.join_cb = std::move(done);
  // A new member must complete its first join within NewMemberJoinTimeoutMs.
  m.heartbeat_deadline_ms = _clock.monotonic_ms() + _cfg.new_member_join_timeout_ms;
  if (g.state == group_state::preparing_rebalance && g.generation == 0) g.new_member_added = true;
  if (g.members.empty()) g.protocol_type = req.protocol_type;
  if (m.instance_id) g.static_members[*m.instance_id] = member_id;
  if (!g.leader) g.leader = member_id;
  g.members.emplace(member_id, std::move(m));
  if (g.state == group_state::preparing_rebalance)
    maybe_complete_join(pd, g);
  else
    prepare_rebalance(pd, g, "a new member joined");
}

void group_manager::update_member_and_rebalance(partition_data& pd, group& g, member& m, const join_request& req,
                                                std::function<void(join_response)> done) {
  m.protocols = req.protocols;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.session_timeout_ms = req.session_timeout_ms;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  if (m.join_cb) {
    // A second JoinGroup from the same member replaces the first, which gets a retriable error.
    join_response r;
    r.error = errc::rebalance_in_progress;
    r.member_id = m.id;
    std::exchange(m.join_cb, nullptr)(std::move(r));
  }
  m.join_cb = std::move(done);
  if (g.state == group_state::preparing_rebalance)
    maybe_complete_join(pd, g);
  else
    prepare_rebalance(pd, g, "a member rejoined with new metadata or as leader");
}

void group_manager::join_static_unknown(partition_data& pd, group& g, const join_request& req,
                                        std::function<void(join_response)> done) {
  const std::string new_id = new_member_id(req.client_id, req.group_instance_id);
  auto s = g.static_members.find(*req.group_instance_id);
  if (s == g.static_members.end() || !g.has(s->second)) {
    add_member_and_rebalance(pd, g, req, new_id, std::move(done));
    return;
  }
  // A known group.instance.id rejoins with a new member id: the new member takes the old one's
  // place (the old id is fenced) and, if the group is stable and the protocol would not change,
  // keeps its assignment without a rebalance (KIP-345).
  const std::string old_id = s->second;
  const std::optional<std::string> old_leader = g.leader;
  auto node = g.members.extract(old_id);
  member m = std::move(node.mapped());
  if (m.join_cb) {
    join_response r;
    r.error = errc::fenced_instance_id;
    r.member_id = old_id;
    std::exchange(m.join_cb, nullptr)(std::move(r));
  }
  if (m.sync_cb) {
    sync_response r;
    r.error = errc::fenced_instance_id;
    std::exchange(m.sync_cb, nullptr)(std::move(r));
  }
  m.id = new_id;
  m.protocols = req.protocols;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.session_timeout_ms = req.session_timeout_ms;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  refresh_heartbeat(g, m);
  if (g.leader == old_id) g.leader = new_id;
  if (g.pending_sync.erase(old_id)) g.pending_sync.insert(new_id);
  g.static_members[*req.group_instance_id] = new_id;
  auto& ref = g.members.emplace(new_id, std::move(m)).first->second;
  log::get("coordinator")->info("group {}: static member {} rejoined as {} (was {})", g.id, *req.group_instance_id,
                                new_id, old_id);

  switch (g.state) {
    case group_state::stable: {
      auto next = select_protocol(g);
      if (next && g.protocol == next) {
        join_response r;
        r.generation_id = g.generation;
        r.protocol_name = *g.protocol;
        // The old leader id, so that a rejoining leader does not compute a new assignment:
        // everyone keeps theirs and the group stays stable.
        r.leader = old_leader.value_or("");
        r.member_id = new_id;
        // Answered once the new member id is replicated (docs/groups.md: on failure the new id
        // stays, where Kafka reverts to the old one).
        store_group(pd, g, nullptr, [r = std::move(r), done = std::move(done)](std::error_code e) {
          if (!e) return done(r);
          join_response f;
          f.error = group_write_error(e);
          f.member_id = r.member_id;
          done(std::move(f));
        });
        return;
      }
      ref.join_cb = std::move(done);
      prepare_rebalance(pd, g, "a static member rejoined with a different protocol");
      return;
    }
    case group_state::completing_rebalance:
      ref.join_cb = std::move(done);
      prepare_rebalance(pd, g, "a static member rejoined during the sync phase");
      return;
    case group_state::preparing_rebalance:
      ref.join_cb = std::move(done);
      maybe_complete_join(pd, g);
      return;
    case group_state::empty:
    case group_state::dead: {
      ref.join_cb = std::move(done);
      prepare_rebalance(pd, g, "a static member joined");
      return;
    }
  }
}

void group_manager::join(int32_t partition, join_request req, std::function<void(join_response)> done) {
  errc err = errc::none;
  auto fail = [&](errc e, std::string member_id) {
    join_response r;
    r.error = e;
    r.member_id = std::move(member_id);
    done(std::move(r));
  };
  auto* pd = owned(partition, err);
  if (!pd) return fail(err, req.member_id);
  if (req.group_id.empty()) return fail(errc::invalid_group_id, req.member_id);
  if (req.session_timeout_ms < _cfg.min_session_timeout_ms || req.session_timeout_ms > _cfg.max_session_timeout_ms)
    return fail(errc::invalid_session_timeout, req.member_id);
  // JoinGroup v0 has no rebalance timeout: it is the session timeout.
  if (req.rebalance_timeout_ms < 0) req.rebalance_timeout_ms = req.session_timeout_ms;
  const bool unknown = req.member_id.empty();
  group* g = find_group(*pd, req.group_id);
  if (!g) {
    if (!unknown) return fail(errc::unknown_member_id, req.member_id);
    g = &get_or_create(*pd, req.group_id);
  }
  if (g->state == group_state::dead) return fail(errc::coordinator_not_available, req.member_id);
  // Offsets-only groups (created by a commit) have no members and no protocol type yet.
  if (!supports_protocols(*g, req.protocol_type, req.protocols))
    return fail(errc::inconsistent_group_protocol, req.member_id);

  if (unknown) {
    const bool replaces_static = req.group_instance_id && g->static_members.count(*req.group_instance_id);
    if (!replaces_static &&
        g->members.size() + g->pending_members.size() >= static_cast<size_t>(std::max(_cfg.max_size, 0)))
      return fail(errc::group_max_size_reached, "");
    if (req.group_instance_id) return join_static_unknown(*pd, *g, req, std::move(done));
    auto id = new_member_id(req.client_id, std::nullopt);
    if (req.require_known_member_id) {
      // KIP-394: hand out the id first; the member rejoins with it.
      g->pending_members[id] = _clock.monotonic_ms() + req.session_timeout_ms;
      return fail(errc::member_id_required, id);
    }
    return add_member_and_rebalance(*pd, *g, req, id, std::move(done));
  }

  if (g->pending_members.erase(req.member_id)) {
    if (req.group_instance_id) return fail(errc::invalid_request, req.member_id);
    return add_member_and_rebalance(*pd, *g, req, req.member_id, std::move(done));
  }
  if (g->static_fenced(req.group_instance_id, req.member_id)) return fail(errc::fenced_instance_id, req.member_id);
  if (!g->has(req.member_id) || (req.group_instance_id && !g->static_members.count(*req.group_instance_id)))
    return fail(errc::unknown_member_id, req.member_id);
  auto& m = g->members.at(req.member_id);
  switch (g->state) {
    case group_state::preparing_rebalance:
      return update_member_and_rebalance(*pd, *g, m, req, std::move(done));
    case group_state::completing_rebalance:
    case group_state::stable: {
      const bool leader = g->leader == req.member_id;
      const bool same = m.matches(req.protocols);
      if (same && (g->state == group_state::completing_rebalance || !leader)) {
        // The member lost our previous answer: repeat it.
        join_response r;
        r.generation_id = g->generation;
        r.protocol_name = g->protocol.value_or("");
        r.leader = g->leader.value_or("");
        r.member_id = req.member_id;
        if (leader)
          for (const auto& [id, mm] : g->members) {
            join_member jm;
            jm.member_id = id;
            jm.group_instance_id = mm.instance_id;
            if (g->protocol)
              if (const auto* md = mm.metadata_for(*g->protocol)) jm.metadata = *md;
            r.members.push_back(std::move(jm));
          }
        refresh_heartbeat(*g, m);
        done(std::move(r));
        return;
      }
      return update_member_and_rebalance(*pd, *g, m, req, std::move(done));
    }
    case group_state::empty:
    case group_state::dead:
      return fail(errc::unknown_member_id, req.member_id);
  }
}

// ---- SyncGroup --------------------------------------------------------------------------------

void group_manager::sync(int32_t partition, sync_request req, std::function<void(sync_response)> done) {
  errc err = errc::none;
  auto fail = [&](errc e) {
    sync_response r;
    r.error = e;
    done(std::move(r));
  };
  auto* pd = owned(partition, err);
  if (!pd) return fail(err);
  group* g = find_group(*pd, req.group_id);
  if (!g) return fail(errc::unknown_member_id);
  if (g->state == group_state::dead) return fail(errc::coordinator_not_available);
  if (g->static_fenced(req.group_instance_id, req.member_id)) return fail(errc::fenced_instance_id);
  if (!g->has(req.member_id)) return fail(errc::unknown_member_id);
  if (req.generation_id != g->generation) return fail(errc::illegal_generation);
  auto& m = g->members.at(req.member_id);
  switch (g->state) {
    case group_state::empty:
    case group_state::dead: return fail(errc::unknown_member_id);
    case group_state::preparing_rebalance: return fail(errc::rebalance_in_progress);
    case group_state::stable: {
      remove_pending_sync(*g, req.member_id);
      refresh_heartbeat(*g, m);
      sync_response r;
      r.assignment = m.assignment;
      done(std::move(r));
      return;
    }
    case group_state::completing_rebalance: {
      if (m.sync_cb) {
        sync_response r;
        r.error = errc::rebalance_in_progress;
        std::exchange(m.sync_cb, nullptr)(std::move(r));
      }
      m.sync_cb = std::move(done);
      remove_pending_sync(*g, req.member_id);
      if (g->leader != req.member_id) return;
      // The leader's assignment is written first; members get it (and the group turns Stable)
      // only once the write is replicated, and only if the group is still waiting for this
      // generation's assignment (a rebalance meanwhile answered everyone already).
      auto assignments = std::make_shared<std::vector<std::pair<std::string, std::vector<uint8_t>>>>(
          std::move(req.assignments));
      store_group(*pd, *g, assignments.get(),
                  [this, partition, group_id = req.group_id, generation = g->generation, assignments](std::error_code e) {
                    errc ignored = errc::none;
                    auto* p = owned(partition, ignored);
                    group* gg = p ? find_group(*p, group_id) : nullptr;
                    if (!gg || gg->state != group_state::completing_rebalance || gg->generation != generation) return;
                    if (e) {
                      propagate_sync_error(*gg, group_write_error(e));
                      prepare_rebalance(*p, *gg, "writing the assignment failed");
                      return;
                    }
                    transition(*gg, group_state::stable);
                    set_and_propagate_assignment(*p, *gg, *assignments);
                  });
      return;
    }
  }
}

// ---- Heartbeat / LeaveGroup -------------------------------------------------------------------

errc group_manager::heartbeat(int32_t partition, const heartbeat_request& req) {
  errc err = errc::none;
  auto* pd = owned(partition, err);
  if (!pd) return err;
  group* g = find_group(*pd, req.group_id);
  if (!g) return errc::unknown_member_id;
  if (g->state == group_state::dead) return errc::coordinator_not_available;
  if (g->static_fenced(req.group_instance_id, req.member_id)) return errc::fenced_instance_id;
  if (!g->has(req.member_id)) return errc::unknown_member_id;
  if (req.generation_id != g->generation) return errc::illegal_generation;
  auto& m = g->members.at(req.member_id);
  switch (g->state) {
    case group_state::empty:
    case group_state::dead: return errc::unknown_member_id;
    case group_state::preparing_rebalance:
      refresh_heartbeat(*g, m);
      return errc::rebalance_in_progress;
    case group_state::completing_rebalance:
    case group_state::stable:
      refresh_heartbeat(*g, m);
      return errc::none;
  }
  return errc::none;
}

leave_response group_manager::leave(int32_t partition, const std::string& group_id,
                                    const std::vector<leave_member>& members) {
  leave_response out;
  errc err = errc::none;
  auto* pd = owned(partition, err);
  if (!pd) {
    out.error = err;
    out.member_errors.assign(members.size(), err);
    return out;
  }
  group* g = find_group(*pd, group_id);
  if (!g) {
    out.member_errors.assign(members.size(), errc::unknown_member_id);
    return out;
  }
  if (g->state == group_state::dead) {
    out.error = errc::coordinator_not_available;
    out.member_errors.assign(members.size(), errc::coordinator_not_available);
    return out;
  }
  bool removed_any = false;
  for (const auto& lm : members) {
    std::string id = lm.member_id;
    if (lm.group_instance_id) {
      auto s = g->static_members.find(*lm.group_instance_id);
      if (s == g->static_members.end()) {
        out.member_errors.push_back(errc::unknown_member_id);
        continue;
      }
      // An admin may remove a static member by instance id alone (member id "").
      if (!id.empty() && s->second != id) {
        out.member_errors.push_back(errc::fenced_instance_id);
        continue;
      }
      id = s->second;
    } else if (g->pending_members.erase(id)) {
      out.member_errors.push_back(errc::none);
      removed_any = true;
      continue;
    }
    if (!g->has(id)) {
      out.member_errors.push_back(errc::unknown_member_id);
      continue;
    }
    remove_member(*pd, *g, id, "left the group");
    removed_any = true;
    out.member_errors.push_back(errc::none);
  }
  if (removed_any) {
    if (g->state == group_state::stable || g->state == group_state::completing_rebalance)
      prepare_rebalance(*pd, *g, "a member left");
    else
      maybe_complete_join(*pd, *g);
  }
  return out;
}

// ---- offsets ----------------------------------------------------------------------------------

void group_manager::commit(int32_t partition, const commit_request& req, std::function<void(std::vector<errc>)> done) {
  errc err = errc::none;
  auto all = [&](errc e) { done(std::vector<errc>(req.partitions.size(), e)); };
  auto* pd = owned(partition, err);
  if (!pd) return all(err);
  if (req.group_id.empty()) return all(errc::invalid_group_id);
  group* g = find_group(*pd, req.group_id);
  if (!g) {
    // Not using group management (generation -1): the group exists to hold offsets.
    if (req.generation_id >= 0) return all(errc::illegal_generation);
    g = &get_or_create(*pd, req.group_id);
  }
  if (g->state == group_state::dead) return all(errc::coordinator_not_available);
  if (g->static_fenced(req.group_instance_id, req.member_id)) return all(errc::fenced_instance_id);
  const bool simple = req.generation_id < 0 && g->state == group_state::empty;
  if (!simple) {
    if (g->state == group_state::completing_rebalance) return all(errc::rebalance_in_progress);
    if (!g->has(req.member_id)) return all(errc::unknown_member_id);
    if (req.generation_id != g->generation) return all(errc::illegal_generation);
    refresh_heartbeat(*g, g->members.at(req.member_id));
  }
  store_offsets(*pd, *g, req.partitions, nullptr, std::move(done));
}

void group_manager::txn_commit(int32_t partition, const txn_commit_request& req,
                               std::function<void(std::vector<errc>)> done) {
  auto all = [&](errc e) { done(std::vector<errc>(req.partitions.size(), e)); };
  // Kafka's validateGroupStatus order: the group id, then the coordinator.
  if (req.group_id.empty()) return all(errc::invalid_group_id);
  errc err = errc::none;
  auto* pd = owned(partition, err);
  if (!pd) return all(err);
  // Kafka's validateOffsetCommit with isTransactional: membership is checked only when the
  // request names a member, generation or instance (v3+); any group state is accepted
  // otherwise, since v0-2 carry neither. An unknown group is created (empty, offsets only)
  // unless the membership check rejects the request anyway.
  group* g = find_group(*pd, req.group_id);
  const bool check_member = req.generation_id >= 0 || !req.member_id.empty() || req.group_instance_id.has_value();
  if (g && g->state == group_state::dead) return all(errc::coordinator_not_available);
  if (check_member) {
    if (g && g->static_fenced(req.group_instance_id, req.member_id)) return all(errc::fenced_instance_id);
    if (!g || !g->has(req.member_id)) return all(errc::unknown_member_id);
    if (req.generation_id != g->generation) return all(errc::illegal_generation);
  }
  if (!g) g = &get_or_create(*pd, req.group_id);
  // Kafka's storeOffsets treats a request without a producer id (-1) as a plain commit.
  const txn_producer producer{req.producer_id, req.producer_epoch};
  store_offsets(*pd, *g, req.partitions, req.producer_id >= 0 ? &producer : nullptr, std::move(done));
}

void group_manager::store_offsets(partition_data& pd, group& g, const std::vector<commit_partition>& partitions,
                                  const txn_producer* txn, std::function<void(std::vector<errc>)> done) {
  std::vector<errc> out(partitions.size(), errc::none);
  std::vector<model::record_data> records;
  std::vector<std::pair<topic_partition_id, offset_commit_value>> staged;
  const int64_t now = _clock.wall_ms();
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& p = partitions[i];
    std::string md = p.metadata.value_or("");
    if (static_cast<int64_t>(md.size()) > _cfg.offset_metadata_max_bytes) {
      out[i] = errc::offset_metadata_too_large;
      continue;
    }
    offset_commit_value v;
    v.offset = p.offset;
    v.leader_epoch = p.leader_epoch;
    v.metadata = std::move(md);
    v.commit_timestamp_ms = now;
    model::record_data rec;
    rec.key = encode_offset_commit_key({g.id, p.topic, p.partition});
    rec.value = encode_offset_commit_value(v);
    rec.timestamp_ms = now;
    records.push_back(std::move(rec));
    staged.emplace_back(topic_partition_id{p.topic, p.partition}, std::move(v));
  }
  if (records.empty()) return done(std::move(out));
  auto fail = [](std::vector<errc>& o, std::error_code e) {
    const errc mapped = commit_write_error(e);
    for (auto& x : o)
      if (x == errc::none) x = mapped;
  };
  auto appended = append_records(pd, records, txn);
  if (!appended) {
    log::get("coordinator")->error("group {}: writing offsets failed: {}", g.id, appended.error().message());
    fail(out, appended.error());
    return done(std::move(out));
  }
  const int64_t position = *appended;
  const int64_t end_offset = position + static_cast<int64_t>(records.size());
  const int32_t partition = pd.id;
  if (txn) {
    // Pending from the append on (Kafka's prepareTxnOffsetCommit), so a marker, which can only
    // follow this batch in the log, always finds them; a failed write takes them back.
    for (auto& [tp, v] : staged) g.pending_txn[txn->producer_id][tp] = committed_offset{std::move(v), position};
    pd.producer_groups[txn->producer_id].insert(g.id);
    pd.writes.wait(*pd.store, end_offset,
                   [this, partition, group_id = g.id, producer_id = txn->producer_id, position,
                    out = std::move(out), done = std::move(done), fail](std::error_code e) mutable {
                     if (e) {
                       log::get("coordinator")->error("group {}: transactional offsets of producer {} not written: {}",
                                                      group_id, producer_id, e.message());
                       errc ignored = errc::none;
                       if (auto* p = owned(partition, ignored)) fail_pending_txn(*p, group_id, producer_id, position);
                       fail(out, e);
                     }
                     done(std::move(out));
                   });
    return;
  }
  // Staged: the offsets become visible (and the commit is answered) once the write is
  // replicated. A group deleted or expired meanwhile does not get them back.
  pd.writes.wait(*pd.store, end_offset,
                 [this, partition, group_id = g.id, staged = std::move(staged), out = std::move(out),
                  done = std::move(done), position, fail](std::error_code e) mutable {
                   if (e) {
                     log::get("coordinator")->error("group {}: writing offsets failed: {}", group_id, e.message());
                     fail(out, e);
                     return done(std::move(out));
                   }
                   errc ignored = errc::none;
                   auto* p = owned(partition, ignored);
                   group* g2 = p ? find_group(*p, group_id) : nullptr;
                   if (g2 && g2->state != group_state::dead)
                     for (auto& [tp, v] : staged) {
                       // Kafka's onOffsetCommitAppend: a commit later in the log (a
                       // transactional one whose marker came meanwhile) is not replaced.
                       auto cur = g2->offsets.find(tp);
                       if (cur == g2->offsets.end() || cur->second.log_offset < position)
                         g2->offsets[tp] = committed_offset{std::move(v), position};
                     }
                   done(std::move(out));
                 });
}

void group_manager::fail_pending_txn(partition_data& pd, const std::string& group_id, int64_t producer_id,
                                     int64_t log_offset) {
  group* g = find_group(pd, group_id);
  if (!g) return;
  auto it = g->pending_txn.find(producer_id);
  if (it == g->pending_txn.end()) return;
  // Only this write's offsets: a later write of the same producer may have replaced some.
  std::erase_if(it->second, [&](const auto& e) { return e.second.log_offset == log_offset; });
  if (!it->second.empty()) return;
  g->pending_txn.erase(it);
  auto pg = pd.producer_groups.find(producer_id);
  if (pg == pd.producer_groups.end()) return;
  pg->second.erase(group_id);
  if (pg->second.empty()) pd.producer_groups.erase(pg);
}

void group_manager::complete_pending_txn(partition_data& pd, int64_t producer_id, bool commit) {
  auto node = pd.producer_groups.extract(producer_id);
  if (!node) return;
  for (const auto& group_id : node.mapped()) {
    group* g = find_group(pd, group_id);
    if (!g || g->state == group_state::dead) continue;
    auto pending = g->pending_txn.extract(producer_id);
    if (!pending || !commit) continue;
    // Kafka's completePendingTxnOffsetCommit: a commit written later in the log wins.
    for (auto& [tp, c] : pending.mapped()) {
      auto cur = g->offsets.find(tp);
      if (cur == g->offsets.end() || cur->second.log_offset < c.log_offset) g->offsets[tp] = std::move(c);
    }
  }
}

void group_manager::complete_txn(int32_t partition, int64_t producer_id, bool commit) {
  auto it = _partitions.find(partition);
  // A partition still loading replays the marker from the log itself.
  if (it == _partitions.end() || !it->second->loaded) return;
  complete_pending_txn(*it->second, producer_id, commit);
  log::get("coordinator")->debug("__consumer_offsets-{}: producer {} {} its transactional offsets", partition,
                                 producer_id, commit ? "committed" : "aborted");
}

fetch_offsets_response group_manager::fetch_offsets(int32_t partition, const std::string& group_id,
                                                    const std::optional<std::vector<topic_partition_id>>& partitions,
                                                    bool require_stable) {
  fetch_offsets_response out;
  errc err = errc::none;
  auto* pd = owned(partition, err);
  if (!pd) {
    out.error = err;
    return out;
  }
  group* g = find_group(*pd, group_id);
  // Kafka's getOffsets: with require_stable, a partition with offsets still waiting for their
  // transaction's marker answers UNSTABLE_OFFSET_COMMIT (offset -1) and the client retries.
  auto fill = [&](fetched_offset& f, const committed_offset* v) {
    f.metadata = "";
    if (require_stable && g && g->has_pending_txn({f.topic, f.partition})) {
      f.error = errc::unstable_offset_commit;
      return;
    }
    if (!v) return;
    f.offset = v->value.offset;
    f.leader_epoch = v->value.leader_epoch;
    f.metadata = v->value.metadata;
  };
  if (!partitions) {
    if (g)
      for (const auto& [tp, v] : g->offsets) {
        fetched_offset f;
        f.topic = tp.topic;
        f.partition = tp.partition;
        fill(f, &v);
        out.offsets.push_back(std::move(f));
      }
    return out;
  }
  for (const auto& tp : *partitions) {
    fetched_offset f;
    f.topic = tp.topic;
    f.partition = tp.partition;
    const committed_offset* v = nullptr;
    if (g) {
      auto it = g->offsets.find(tp);
      if (it != g->offsets.end()) v = &it->second;
    }
    fill(f, v);
    out.offsets.push_back(std::move(f));
  }
  return out;
}

// ---- admin ------------------------------------------------------------------------------------

describe_response group_manager::describe(int32_t partition, const std::string& group_id) {
  describe_response out;
  out.group_id = group_id;
  errc err = errc::none;
  auto* pd = owned(partition, err);
  if (!pd) {
    out.error = err;
    return out;
  }
  group* g = find_group(*pd, group_id);
  if (!g) {
    out.state = state_name(group_state::dead);
    return out;
  }
  out.state = state_name(g->state);
  out.protocol_type = g->protocol_type;
  const bool stable = g->state == group_state::stable;
  if (stable) out.protocol = g->protocol.value_or("");
  for (const auto& [id, m] : g->members) {
    described_member d;
    d.member_id = id;
    d.group_instance_id = m.instance_id;
    d.client_id = m.client_id;
    d.client_host = m.client_host;
    if (stable) {
      if (g->protocol)
        if (const auto* md = m.metadata_for(*g->protocol)) d.metadata = *md;
      d.assignment = m.assignment;
    }
    out.members.push_back(std::move(d));
  }
  return out;
}

std::vector<listed_group> group_manager::list(const std::vector<std::string>& states) const {
  std::set<std::string> wanted;
  for (const auto& s : states) wanted.insert(lower(s));
  std::vector<listed_group> out;
  for (const auto& [_, pd] : _partitions) {
    if (!pd->loaded) continue;
    for (const auto& [id, g] : pd->groups) {
      if (g->state == group_state::dead) continue;
      std::string st = state_name(g->state);
      if (!wanted.empty() && !wanted.count(lower(st))) continue;
      out.push_back({id, g->protocol_type, st});
    }
  }
  return out;
}

errc group_manager::delete_group(int32_t partition, const std::string& group_id) {
  errc err = errc::none;
  auto* pd = owned(partition, err);
  if (!pd) return err;
  if (group_id.empty()) return errc::invalid_group_id;
  group* g = find_group(*pd, group_id);
  if (!g || g->state == group_state::dead) return errc::group_id_not_found;
  if (g->state != group_state::empty) return errc::non_empty_group;
  std::vector<model::record_data> recs;
  const int64_t now = _clock.wall_ms();
  for (const auto& [tp, _] : g->offsets) {
    model::record_data r;
    r.key = encode_offset_commit_key({group_id, tp.topic, tp.partition});
    r.timestamp_ms = now;
    recs.push_back(std::move(r));
  }
  model::record_data r;
  r.key = encode_group_metadata_key(group_id);
  r.timestamp_ms = now;
  recs.push_back(std::move(r));
  // Tombstones are not waited for, as in Kafka (cleanupGroupMetadata appends them with acks=0):
  // one lost in a leader change is written again by offset expiry, or the delete is retried.
  if (auto a = pd->store->append(recs); !a) {
    log::get("coordinator")->error("group {}: writing tombstones failed: {}", group_id, a.error().message());
    return errc::coordinator_not_available;
  }
  transition(*g, group_state::dead);
  pd->groups.erase(group_id);
  log::get("coordinator")->info("group {} deleted", group_id);
  return errc::none;
}

offset_delete_response group_manager::delete_offsets(int32_t partition, const std::string& group_id,
                                                     const std::vector<topic_partition_id>& partitions) {
  offset_delete_response out;
  errc err = errc::none;
  auto* pd = owned(partition, err);
  if (!pd) {
    out.error = err;
    return out;
  }
  if (group_id.empty()) {
    out.error = errc::invalid_group_id;
    return out;
  }
  group* g = find_group(*pd, group_id);
  if (!g || g->state == group_state::dead) {
    out.error = errc::group_id_not_found;
    return out;
  }
  std::set<std::string> subscribed;
  if (g->state != group_state::empty) {
    if (g->protocol_type != consumer_protocol_type) {
      out.error = errc::non_empty_group;
      return out;
    }
    for (const auto& [_, m] : g->members)
      if (g->protocol)
        if (const auto* md = m.metadata_for(*g->protocol))
          if (auto t = subscription_topics(*md)) subscribed.insert(t->begin(), t->end());
  }
  out.partition_errors.assign(partitions.size(), errc::none);
  std::vector<model::record_data> recs;
  std::vector<topic_partition_id> removed;
  const int64_t now = _clock.wall_ms();
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& tp = partitions[i];
    if (subscribed.count(tp.topic)) {
      out.partition_errors[i] = errc::group_subscribed_to_topic;
      continue;
    }
    // Kafka's removeOffsets: pending transactional offsets of the partition go too (in memory;
    // their records are decided by the marker on a reload, as in Kafka).
    for (auto& [_, offs] : g->pending_txn) offs.erase(tp);
    if (!g->offsets.count(tp)) continue;
    model::record_data r;
    r.key = encode_offset_commit_key({group_id, tp.topic, tp.partition});
    r.timestamp_ms = now;
    recs.push_back(std::move(r));
    removed.push_back(tp);
  }
  if (recs.empty()) return out;
  // Not waited for: see delete_group.
  if (auto a = pd->store->append(recs); !a) {
    out.error = errc::coordinator_not_available;
    out.partition_errors.clear();
    return out;
  }
  for (const auto& tp : removed) g->offsets.erase(tp);
  return out;
}

// ---- time -------------------------------------------------------------------------------------

void group_manager::tick_group(partition_data& pd, group& g, int64_t now) {
  // Member ids handed out with MEMBER_ID_REQUIRED whose owner never came back.
  bool pending_expired = false;
  for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
    if (now >= it->second) {
      it = g.pending_members.erase(it);
      pending_expired = true;
    } else {
      ++it;
    }
  }
  // Session timeouts. Members waiting for a JoinGroup/SyncGroup answer are alive (they cannot
  // heartbeat meanwhile), except new members past NewMemberJoinTimeoutMs.
  std::vector<std::string> expired;
  for (auto& [id, m] : g.members) {
    if (now < m.heartbeat_deadline_ms) continue;
    if (!m.is_new && (m.join_cb || m.sync_cb)) {
      m.heartbeat_deadline_ms = now + m.session_timeout_ms;
      continue;
    }
    expired.push_back(id);
  }
  for (const auto& id : expired) remove_member(pd, g, id, "session timeout expired");
  if (!expired.empty() && (g.state == group_state::stable || g.state == group_state::completing_rebalance))
    prepare_rebalance(pd, g, "a member's session timed out");
  else if (!expired.empty() || pending_expired)
    maybe_complete_join(pd, g);

  if (g.state == group_state::preparing_rebalance && now >= g.join_deadline_ms) {
    if (g.initial_delay && g.new_member_added && g.initial_delay_remaining_ms > 0) {
      int64_t delay = std::min<int64_t>(_cfg.initial_rebalance_delay_ms, g.initial_delay_remaining_ms);
      g.initial_delay_remaining_ms = std::max<int64_t>(g.initial_delay_remaining_ms - delay, 0);
      g.new_member_added = false;
      g.join_deadline_ms = now + delay;
    } else {
      complete_join(pd, g);
    }
  }
  // Members that did not send SyncGroup within the rebalance timeout are removed.
  if ((g.state == group_state::completing_rebalance || g.state == group_state::stable) && !g.pending_sync.empty() &&
      now >= g.sync_deadline_ms) {
    auto late = g.pending_sync;
    for (const auto& id : late) remove_member(pd, g, id, "no SyncGroup before the rebalance timeout");
    prepare_rebalance(pd, g, "members did not sync in time");
  }
}

void group_manager::expire_offsets(partition_data& pd) {
  const int64_t now = _clock.wall_ms();
  std::vector<std::string> dead;
  for (auto& [id, gp] : pd.groups) {
    group& g = *gp;
    std::vector<topic_partition_id> expired;
    std::set<std::string> subscribed;
    bool by_commit_time = false;
    if (g.state == group_state::empty) {
      by_commit_time = g.protocol_type.empty();
    } else if (g.state == group_state::stable && g.protocol_type == consumer_protocol_type && g.protocol) {
      // Offsets of topics nobody subscribes to any more expire by their commit time.
      bool known = true;
      for (const auto& [_, m] : g.members) {
        const auto* md = m.metadata_for(*g.protocol);
        auto t = md ? subscription_topics(*md) : std::nullopt;
        if (!t) known = false;
        else subscribed.insert(t->begin(), t->end());
      }
      if (!known) continue;
      by_commit_time = true;
    } else {
      continue;
    }
    for (const auto& [tp, c] : g.offsets) {
      if (subscribed.count(tp.topic)) continue;
      const offset_commit_value& v = c.value;
      bool gone;
      if (v.expire_timestamp_ms >= 0) {
        gone = now >= v.expire_timestamp_ms;
      } else {
        int64_t base = (!by_commit_time && g.state_timestamp_ms >= 0) ? g.state_timestamp_ms : v.commit_timestamp_ms;
        gone = now - base >= _cfg.offsets_retention_ms;
      }
      if (gone) expired.push_back(tp);
    }
    std::vector<model::record_data> recs;
    for (const auto& tp : expired) {
      model::record_data r;
      r.key = encode_offset_commit_key({id, tp.topic, tp.partition});
      r.timestamp_ms = now;
      recs.push_back(std::move(r));
    }
    // Kafka's group.hasOffsets: pending transactional offsets keep an empty group alive.
    bool pending = false;
    for (const auto& [_, offs] : g.pending_txn) pending = pending || !offs.empty();
    const bool now_dead = g.state == group_state::empty && g.offsets.size() == expired.size() && !pending;
    if (now_dead) {
      model::record_data r;
      r.key = encode_group_metadata_key(id);
      r.timestamp_ms = now;
      recs.push_back(std::move(r));
    }
    if (recs.empty()) continue;
    // Not waited for: see delete_group.
    if (auto a = pd.store->append(recs); !a) {
      log::get("coordinator")->error("group {}: writing expired offsets failed: {}", id, a.error().message());
      continue;
    }
    for (const auto& tp : expired) g.offsets.erase(tp);
    if (!expired.empty())
      log::get("coordinator")->info("group {}: {} committed offsets expired", id, expired.size());
    if (now_dead) {
      transition(g, group_state::dead);
      dead.push_back(id);
    }
  }
  for (const auto& id : dead) pd.groups.erase(id);
}

void group_manager::tick() {
  const int64_t now = _clock.monotonic_ms();
  for (auto& [_, pd] : _partitions) {
    if (!pd->loaded) continue;
    std::vector<std::string> ids;
    for (const auto& [id, g] : pd->groups)
      if (!g->members.empty() || !g->pending_members.empty() || g->state != group_state::empty) ids.push_back(id);
    for (const auto& id : ids)
      if (auto* g = find_group(*pd, id)) tick_group(*pd, *g, now);
  }
  if (now >= _next_expiry_check_ms) {
    _next_expiry_check_ms = now + _cfg.retention_check_interval_ms;
    for (auto& [_, pd] : _partitions)
      if (pd->loaded) expire_offsets(*pd);
  }
}

}  // namespace sluice::coordinator::group
