#include "coordinator/txn/transaction_manager.h"

#include <gtest/gtest.h>

#include <optional>

#include "coordinator/testing/memory_partition.h"

namespace sluice::coordinator::txn {
namespace {

using testing::memory_log;
using memory_store = testing::memory_partition;

constexpr int32_t P = 3;
constexpr int32_t coord_epoch = 11;

struct TransactionManager : ::testing::Test {
  manual_clock clock;
  txn_config cfg;
  std::shared_ptr<memory_log> log = std::make_shared<memory_log>();
  std::vector<marker_work> markers;
  int64_t next_pid = 1000;
  std::unique_ptr<transaction_manager> tm;

  TransactionManager() {
    cfg.max_timeout_ms = 60000;
    restart();
  }
  void restart() {
    markers.clear();
    tm = std::make_unique<transaction_manager>(
        cfg, clock, [this]() -> result<int64_t> { return next_pid++; },
        [this](const marker_work& w) { markers.push_back(w); });
    ASSERT_TRUE(tm->load(P, coord_epoch, std::make_unique<memory_store>(log)));
  }
  init_pid_response init(const std::string& id = "tx", int64_t pid = -1, int16_t epoch = -1, int32_t timeout = 10000) {
    init_pid_request r;
    r.transactional_id = id;
    r.transaction_timeout_ms = timeout;
    r.producer_id = pid;
    r.producer_epoch = epoch;
    return init_req(r);
  }
  // The manager's answer, which the memory store gives synchronously unless log->hold is set.
  init_pid_response init_req(const init_pid_request& r, int32_t partition = P) {
    std::optional<init_pid_response> got;
    tm->init_producer_id(partition, r, [&](init_pid_response x) { got = x; });
    EXPECT_TRUE(got) << "no synchronous answer";
    return got.value_or(init_pid_response{errc::unknown_server_error});
  }
  errc add_partitions(int32_t partition, const std::string& id, int64_t pid, int16_t epoch,
                      const std::vector<topic_partition>& tps) {
    std::optional<errc> got;
    tm->add_partitions(partition, id, pid, epoch, tps, [&](errc e) { got = e; });
    EXPECT_TRUE(got) << "no synchronous answer";
    return got.value_or(errc::unknown_server_error);
  }
  errc add_offsets(int32_t partition, const std::string& id, int64_t pid, int16_t epoch, int32_t op) {
    std::optional<errc> got;
    tm->add_offsets(partition, id, pid, epoch, op, [&](errc e) { got = e; });
    EXPECT_TRUE(got) << "no synchronous answer";
    return got.value_or(errc::unknown_server_error);
  }
  errc end_txn(int32_t partition, const std::string& id, int64_t pid, int16_t epoch, bool commit) {
    std::optional<errc> got;
    tm->end_txn(partition, id, pid, epoch, commit, [&](errc e) { got = e; });
    EXPECT_TRUE(got) << "no synchronous answer";
    return got.value_or(errc::unknown_server_error);
  }
  // The last decoded value written to the log.
  txn_log_value last_value() {
    const auto& v = *log->records.back().value;
    auto d = decode_txn_log_value(std::span(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
    EXPECT_TRUE(d);
    return d ? *d : txn_log_value{};
  }
  std::string state(const std::string& id = "tx") { return tm->describe(P, id).state; }
};

TEST_F(TransactionManager, InitProducerIdNewThenBumpsEpoch) {
  auto r = init();
  EXPECT_EQ(r.error, errc::none);
  EXPECT_EQ(r.producer_id, 1000);
  EXPECT_EQ(r.producer_epoch, 0);
  ASSERT_EQ(log->records.size(), 1u);
  EXPECT_EQ(*log->records[0].key, encode_txn_log_key("tx"));
  EXPECT_EQ(last_value().state, txn_state::empty);
  EXPECT_EQ(last_value().producer_epoch, 0);
  auto r2 = init();
  EXPECT_EQ(r2.producer_id, 1000);
  EXPECT_EQ(r2.producer_epoch, 1);
  EXPECT_EQ(log->records.size(), 2u);
  EXPECT_EQ(state(), "Empty");
}

TEST_F(TransactionManager, InitProducerIdValidatesRequest) {
  EXPECT_EQ(init("tx", -1, -1, 0).error, errc::invalid_transaction_timeout);
  EXPECT_EQ(init("tx", -1, -1, 60001).error, errc::invalid_transaction_timeout);
  EXPECT_EQ(init("", -1, -1).error, errc::invalid_request);
  EXPECT_EQ(init(std::string(32768, 'x'), -1, -1).error, errc::invalid_request);
  init_pid_request r;
  r.transactional_id = "tx";
  r.transaction_timeout_ms = 1000;
  EXPECT_EQ(init_req(r, P + 1).error, errc::not_coordinator);
  tm->begin_loading(P + 1);
  EXPECT_EQ(init_req(r, P + 1).error, errc::coordinator_load_in_progress);
  EXPECT_TRUE(log->records.empty());
}

TEST_F(TransactionManager, CommitFlowWritesEachStepBeforeAnswering) {
  auto r = init();
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch, {{"t", 1}, {"t", 0}}), errc::none);
  EXPECT_EQ(last_value().state, txn_state::ongoing);
  EXPECT_EQ(last_value().partitions, (std::map<std::string, std::vector<int32_t>>{{"t", {0, 1}}}));
  const auto n = log->records.size();
  // Already included: nothing written.
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch, {{"t", 0}}), errc::none);
  EXPECT_EQ(log->records.size(), n);
  EXPECT_EQ(add_offsets(P, "tx", r.producer_id, r.producer_epoch, 17), errc::none);
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, true), errc::none);
  EXPECT_EQ(last_value().state, txn_state::prepare_commit);
  ASSERT_EQ(markers.size(), 1u);
  const auto& w = markers[0];
  EXPECT_TRUE(w.commit);
  EXPECT_EQ(w.producer_id, 1000);
  EXPECT_EQ(w.producer_epoch, 0);
  EXPECT_EQ(w.coordinator_epoch, coord_epoch);
  EXPECT_EQ(w.txn_partition, P);
  EXPECT_EQ(w.partitions, (std::vector<topic_partition>{{"__consumer_offsets", 17}, {"t", 0}, {"t", 1}}));
  // While preparing: retries of the same outcome wait, the other outcome is illegal.
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, true), errc::concurrent_transactions);
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, false), errc::invalid_txn_state);
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch, {{"u", 0}}), errc::concurrent_transactions);
  EXPECT_EQ(init().error, errc::concurrent_transactions);
  EXPECT_TRUE(tm->markers_written(w));
  EXPECT_EQ(last_value().state, txn_state::complete_commit);
  EXPECT_TRUE(last_value().partitions.empty());
  EXPECT_FALSE(tm->markers_written(w));  // a duplicate confirmation changes nothing
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, true), errc::none);  // idempotent retry
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, false), errc::invalid_txn_state);
  // The next transaction starts afresh.
  clock.advance_ms(50);
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch, {{"u", 2}}), errc::none);
  EXPECT_EQ(last_value().partitions, (std::map<std::string, std::vector<int32_t>>{{"u", {2}}}));
  EXPECT_EQ(last_value().start_timestamp_ms, clock.wall_ms());
}

TEST_F(TransactionManager, AbortFlowAndIllegalSteps) {
  auto r = init();
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, false), errc::invalid_txn_state);  // Empty
  EXPECT_EQ(add_partitions(P, "nope", r.producer_id, r.producer_epoch, {{"t", 0}}), errc::invalid_producer_id_mapping);
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id + 1, r.producer_epoch, {{"t", 0}}), errc::invalid_producer_id_mapping);
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch + 1, {{"t", 0}}), errc::producer_fenced);
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch, {{std::string(40000, 't'), 0}}),
            errc::invalid_request);
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch, {{"", 0}}), errc::invalid_request);
  EXPECT_EQ(state(), "Empty");
  EXPECT_EQ(end_txn(P, "tx", r.producer_id + 1, r.producer_epoch, true), errc::invalid_producer_id_mapping);
  EXPECT_EQ(add_partitions(P, "tx", r.producer_id, r.producer_epoch, {{"t", 0}}), errc::none);
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, false), errc::none);
  EXPECT_EQ(state(), "PrepareAbort");
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_FALSE(markers[0].commit);
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, true), errc::invalid_txn_state);
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, false), errc::concurrent_transactions);
  EXPECT_TRUE(tm->markers_written(markers[0]));
  EXPECT_EQ(state(), "CompleteAbort");
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, false), errc::none);
  EXPECT_EQ(end_txn(P, "tx", r.producer_id, r.producer_epoch, true), errc::invalid_txn_state);
}

TEST_F(TransactionManager, ZombieFencing) {
  auto a = init();
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  // A second instance starts: the open transaction is aborted with a bumped epoch first.
  EXPECT_EQ(init().error, errc::concurrent_transactions);
  EXPECT_EQ(state(), "PrepareAbort");
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_FALSE(markers[0].commit);
  EXPECT_EQ(markers[0].producer_epoch, a.producer_epoch + 1);  // the fencing epoch goes into the markers
  EXPECT_EQ(init().error, errc::concurrent_transactions);     // still aborting
  // The zombie can no longer act.
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::producer_fenced);
  EXPECT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 1}}), errc::producer_fenced);
  ASSERT_TRUE(tm->markers_written(markers[0]));
  auto b = init();
  EXPECT_EQ(b.error, errc::none);
  EXPECT_EQ(b.producer_id, a.producer_id);
  EXPECT_EQ(b.producer_epoch, a.producer_epoch + 2);
  EXPECT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 1}}), errc::producer_fenced);
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, false), errc::producer_fenced);
  // KIP-360 from the zombie with its stale epoch: fenced, nothing written.
  const auto n = log->records.size();
  EXPECT_EQ(init("tx", a.producer_id, a.producer_epoch).error, errc::producer_fenced);
  EXPECT_EQ(init("tx", a.producer_id + 5, 0).error, errc::producer_fenced);
  EXPECT_EQ(log->records.size(), n);
  EXPECT_EQ(add_partitions(P, "tx", b.producer_id, b.producer_epoch, {{"t", 1}}), errc::none);
}

TEST_F(TransactionManager, Kip360BumpAndLostResponseRetry) {
  auto a = init();
  auto b = init("tx", a.producer_id, a.producer_epoch);
  EXPECT_EQ(b.error, errc::none);
  EXPECT_EQ(b.producer_epoch, a.producer_epoch + 1);
  const auto n = log->records.size();
  // The answer was lost and the producer retries with what it had: the same id/epoch again.
  auto c = init("tx", a.producer_id, a.producer_epoch);
  EXPECT_EQ(c.error, errc::none);
  EXPECT_EQ(c.producer_id, b.producer_id);
  EXPECT_EQ(c.producer_epoch, b.producer_epoch);
  EXPECT_EQ(log->records.size(), n);
}

TEST_F(TransactionManager, EpochExhaustionRotatesProducerId) {
  auto a = init();
  // Put the id at the last usable epoch through the log, as a long-lived id would be.
  txn_log_value v;
  v.producer_id = a.producer_id;
  v.producer_epoch = 32766;  // Short.MAX - 1: exhausted
  v.transaction_timeout_ms = 10000;
  v.state = txn_state::complete_commit;
  v.last_update_timestamp_ms = clock.wall_ms();
  log->records.push_back({static_cast<int64_t>(log->records.size()), clock.wall_ms(), encode_txn_log_key("tx"),
                          encode_txn_log_value(v), {}});
  restart();
  auto r = init("tx", a.producer_id, 32766);
  EXPECT_EQ(r.error, errc::none);
  EXPECT_EQ(r.producer_id, 1001);
  EXPECT_EQ(r.producer_epoch, 0);
  EXPECT_EQ(last_value().producer_id, 1001);
  // A retry carrying the old id and exhausted epoch gets the rotated id back, nothing written.
  const auto n = log->records.size();
  auto again = init("tx", a.producer_id, 32766);
  EXPECT_EQ(again.error, errc::none);
  EXPECT_EQ(again.producer_id, 1001);
  EXPECT_EQ(again.producer_epoch, 0);
  EXPECT_EQ(log->records.size(), n);
  EXPECT_EQ(add_partitions(P, "tx", 1001, 0, {{"t", 0}}), errc::none);
}

TEST_F(TransactionManager, EpochExhaustionWithoutKip360) {
  init();
  txn_log_value v;
  v.producer_id = 1000;
  v.producer_epoch = 32767;
  v.transaction_timeout_ms = 10000;
  v.state = txn_state::empty;
  log->records.push_back({static_cast<int64_t>(log->records.size()), 0, encode_txn_log_key("tx"), encode_txn_log_value(v), {}});
  restart();
  auto r = init();
  EXPECT_EQ(r.error, errc::none);
  EXPECT_EQ(r.producer_id, 1001);
  EXPECT_EQ(r.producer_epoch, 0);
}

TEST_F(TransactionManager, TimeoutAbortsOngoingAndFencesProducer) {
  auto a = init("tx", -1, -1, 1000);
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  clock.advance_ms(1000);
  tm->tick();
  EXPECT_EQ(state(), "Ongoing");  // not older than the timeout yet
  EXPECT_TRUE(markers.empty());
  clock.advance_ms(1);
  tm->tick();
  EXPECT_EQ(state(), "PrepareAbort");
  EXPECT_EQ(last_value().producer_epoch, a.producer_epoch + 1);
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_FALSE(markers[0].commit);
  EXPECT_EQ(markers[0].producer_epoch, a.producer_epoch + 1);
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::producer_fenced);
  ASSERT_TRUE(tm->markers_written(markers[0]));
  EXPECT_EQ(state(), "CompleteAbort");
}

TEST_F(TransactionManager, UnconfirmedMarkersAreReemitted) {
  cfg.marker_retry_interval_ms = 500;
  restart();
  auto a = init();
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  ASSERT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::none);
  ASSERT_EQ(markers.size(), 1u);
  clock.advance_ms(499);
  tm->tick();
  EXPECT_EQ(markers.size(), 1u);
  clock.advance_ms(1);
  tm->tick();
  ASSERT_EQ(markers.size(), 2u);
  EXPECT_EQ(markers[1].partitions, markers[0].partitions);
  EXPECT_TRUE(markers[1].commit);
  EXPECT_TRUE(tm->markers_written(markers[1]));
  clock.advance_ms(10000);
  tm->tick();
  EXPECT_EQ(markers.size(), 2u);
}

TEST_F(TransactionManager, ReloadInEachState) {
  auto a = init("a");
  auto b = init("b");
  auto c = init("c");
  auto d = init("d");
  ASSERT_EQ(add_partitions(P, "b", b.producer_id, b.producer_epoch, {{"t", 0}}), errc::none);  // Ongoing
  ASSERT_EQ(add_partitions(P, "c", c.producer_id, c.producer_epoch, {{"t", 1}}), errc::none);
  ASSERT_EQ(end_txn(P, "c", c.producer_id, c.producer_epoch, true), errc::none);  // PrepareCommit
  ASSERT_EQ(add_partitions(P, "d", d.producer_id, d.producer_epoch, {{"t", 2}}), errc::none);
  ASSERT_EQ(end_txn(P, "d", d.producer_id, d.producer_epoch, false), errc::none);
  ASSERT_TRUE(tm->markers_written(markers.back()));  // CompleteAbort
  auto e = init("e");
  ASSERT_EQ(add_partitions(P, "e", e.producer_id, e.producer_epoch, {{"t", 3}}), errc::none);
  ASSERT_EQ(end_txn(P, "e", e.producer_id, e.producer_epoch, false), errc::none);  // PrepareAbort
  auto f = init("f");
  ASSERT_EQ(add_partitions(P, "f", f.producer_id, f.producer_epoch, {{"t", 4}}), errc::none);
  ASSERT_EQ(end_txn(P, "f", f.producer_id, f.producer_epoch, true), errc::none);
  ASSERT_TRUE(tm->markers_written(markers.back()));  // CompleteCommit
  restart();
  EXPECT_EQ(tm->txn_count(), 6u);
  EXPECT_EQ(state("e"), "PrepareAbort");
  EXPECT_EQ(state("f"), "CompleteCommit");
  EXPECT_EQ(end_txn(P, "f", f.producer_id, f.producer_epoch, true), errc::none);
  ASSERT_EQ(markers.size(), 2u);  // c and e resume, in transactional id order
  EXPECT_EQ(markers[1].transactional_id, "e");
  EXPECT_FALSE(markers[1].commit);
  EXPECT_EQ(markers[1].partitions, (std::vector<topic_partition>{{"t", 3}}));
  EXPECT_TRUE(tm->markers_written(markers[1]));
  EXPECT_EQ(state("e"), "CompleteAbort");
  markers.pop_back();
  EXPECT_EQ(state("a"), "Empty");
  EXPECT_EQ(state("b"), "Ongoing");
  EXPECT_EQ(state("c"), "PrepareCommit");
  EXPECT_EQ(state("d"), "CompleteAbort");
  EXPECT_EQ(tm->describe(P, "b").partitions, (std::vector<topic_partition>{{"t", 0}}));
  EXPECT_EQ(tm->describe(P, "a").producer_id, a.producer_id);
  // The Prepare* transaction resumes its markers phase on load.
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0].transactional_id, "c");
  EXPECT_TRUE(markers[0].commit);
  EXPECT_EQ(markers[0].partitions, (std::vector<topic_partition>{{"t", 1}}));
  EXPECT_TRUE(tm->markers_written(markers[0]));
  EXPECT_EQ(state("c"), "CompleteCommit");
  // The reloaded Ongoing transaction still belongs to its producer and still times out.
  EXPECT_EQ(end_txn(P, "b", b.producer_id, b.producer_epoch, true), errc::none);
  EXPECT_EQ(state("b"), "PrepareCommit");
  // A marker confirmation from another coordinator epoch is stale.
  auto stale = markers.back();
  stale.coordinator_epoch = coord_epoch - 1;
  EXPECT_FALSE(tm->markers_written(stale));
  EXPECT_EQ(state("b"), "PrepareCommit");
}

TEST_F(TransactionManager, ReloadedOngoingTransactionStillTimesOut) {
  auto a = init("tx", -1, -1, 1000);
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  restart();
  clock.advance_ms(1001);
  tm->tick();
  EXPECT_EQ(state(), "PrepareAbort");
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0].producer_epoch, a.producer_epoch + 1);
  EXPECT_EQ(markers[0].partitions, (std::vector<topic_partition>{{"t", 0}}));
}

TEST_F(TransactionManager, UnloadAndTombstones) {
  init("a");
  init("b");
  log->records.push_back({static_cast<int64_t>(log->records.size()), 0, encode_txn_log_key("a"), std::nullopt, {}});
  log->records.push_back({static_cast<int64_t>(log->records.size()), 0, std::string("\x00\x09", 2), std::string("x"), {}});
  restart();
  EXPECT_EQ(tm->txn_count(), 1u);
  EXPECT_EQ(tm->describe(P, "a").error, errc::transactional_id_not_found);
  EXPECT_EQ(tm->describe(P, "b").error, errc::none);
  tm->unload(P);
  EXPECT_EQ(tm->status(P), transaction_manager::partition_status::not_owned);
  EXPECT_EQ(tm->describe(P, "b").error, errc::not_coordinator);
  EXPECT_EQ(end_txn(P, "b", 1001, 0, true), errc::not_coordinator);
}

TEST_F(TransactionManager, StoreFailureLeavesStateUnchanged) {
  auto a = init();
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  log->fail = true;
  log->fail_with = write_errc::not_enough_replicas;
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::coordinator_not_available);
  EXPECT_EQ(state(), "Ongoing");
  EXPECT_TRUE(markers.empty());
  EXPECT_EQ(init("new").error, errc::coordinator_not_available);
  EXPECT_EQ(tm->describe(P, "new").error, errc::transactional_id_not_found);
  log->fail = false;
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::none);
  EXPECT_EQ(state(), "PrepareCommit");
}

TEST_F(TransactionManager, ListFiltersByStateAndProducerId) {
  auto a = init("a");
  init("b");
  ASSERT_EQ(add_partitions(P, "a", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  auto all = tm->list({}, {});
  ASSERT_EQ(all.size(), 2u);
  auto ongoing = tm->list({"Ongoing"}, {});
  ASSERT_EQ(ongoing.size(), 1u);
  EXPECT_EQ(ongoing[0].transactional_id, "a");
  EXPECT_EQ(ongoing[0].producer_id, a.producer_id);
  EXPECT_EQ(ongoing[0].state, "Ongoing");
  auto by_pid = tm->list({}, {1001});
  ASSERT_EQ(by_pid.size(), 1u);
  EXPECT_EQ(by_pid[0].transactional_id, "b");
  EXPECT_TRUE(tm->list({"Ongoing"}, {1001}).empty());
  EXPECT_TRUE(tm->list({"NoSuchState"}, {}).empty());
  EXPECT_FALSE(tm->loading());
  tm->begin_loading(P + 1);
  EXPECT_TRUE(tm->loading());
}

}  // namespace
}  // namespace sluice::coordinator::txn

namespace sluice::coordinator::txn {
namespace {

TEST_F(TransactionManager, EmptyTransactionCompletesAtOnce) {
  auto a = init();
  // AddPartitionsToTxn with no partitions still opens the transaction (as Kafka) ...
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {}), errc::none);
  EXPECT_EQ(state(), "Ongoing");
  // ... and ending it has no markers to write: PrepareCommit then CompleteCommit, both logged.
  const auto n = log->records.size();
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::none);
  EXPECT_TRUE(markers.empty());
  EXPECT_EQ(state(), "CompleteCommit");
  ASSERT_EQ(log->records.size(), n + 2);
  EXPECT_EQ(last_value().state, txn_state::complete_commit);
}

TEST_F(TransactionManager, ListDurationFilter) {
  auto a = init("a");
  auto b = init("b");
  ASSERT_EQ(add_partitions(P, "a", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  clock.advance_ms(5000);
  ASSERT_EQ(add_partitions(P, "b", b.producer_id, b.producer_epoch, {{"t", 1}}), errc::none);
  clock.advance_ms(10);
  auto old = tm->list({}, {}, 1000);
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].transactional_id, "a");
  EXPECT_EQ(tm->list({}, {}, 0).size(), 2u);
  EXPECT_EQ(tm->list({}, {}, 6000).size(), 0u);
}

TEST_F(TransactionManager, ReloadForgetsLastEpochSoStaleRetryIsFenced) {
  auto a = init();
  auto b = init("tx", a.producer_id, a.producer_epoch);
  ASSERT_EQ(b.producer_epoch, a.producer_epoch + 1);
  restart();
  // Kafka 3.x keeps no last epoch in the log: after a reload the old epoch is simply stale.
  EXPECT_EQ(init("tx", a.producer_id, a.producer_epoch).error, errc::producer_fenced);
  auto c = init("tx", b.producer_id, b.producer_epoch);
  EXPECT_EQ(c.error, errc::none);
  EXPECT_EQ(c.producer_epoch, b.producer_epoch + 1);
}

}  // namespace
}  // namespace sluice::coordinator::txn

namespace sluice::coordinator::txn {
namespace {

TEST_F(TransactionManager, IdleTransactionalIdsExpireWithTombstones) {
  cfg.id_expiration_ms = 10000;
  cfg.remove_expired_interval_ms = 1000;
  restart();
  auto a = init("idle");
  auto b = init("busy");
  ASSERT_EQ(add_partitions(P, "busy", b.producer_id, b.producer_epoch, {{"t", 0}}), errc::none);
  clock.advance_ms(9000);
  auto c = init("recent");
  clock.advance_ms(1000);  // "idle" last updated exactly 10 s ago; "busy" is Ongoing (and times out)
  tm->tick();
  EXPECT_EQ(tm->describe(P, "idle").error, errc::transactional_id_not_found);
  EXPECT_EQ(tm->describe(P, "recent").error, errc::none);
  EXPECT_EQ(tm->describe(P, "busy").error, errc::none);
  bool tombstone_written = false;
  for (const auto& r : log->records)
    if (r.key == encode_txn_log_key("idle") && !r.value) tombstone_written = true;
  EXPECT_TRUE(tombstone_written);
  EXPECT_EQ(tm->describe(P, "recent").producer_id, c.producer_id);
  // The tombstone survives a reload; a new InitProducerId for the id starts over with a new id.
  restart();
  EXPECT_EQ(tm->describe(P, "idle").error, errc::transactional_id_not_found);
  auto again = init("idle");
  EXPECT_EQ(again.error, errc::none);
  EXPECT_NE(again.producer_id, a.producer_id);
  EXPECT_EQ(again.producer_epoch, 0);
}

}  // namespace
}  // namespace sluice::coordinator::txn

namespace sluice::coordinator::txn {
namespace {

TEST_F(TransactionManager, TransitionAnsweredAndAppliedOnlyOnceReplicated) {
  auto a = init();
  log->hold = true;
  std::optional<errc> added;
  tm->add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}, [&](errc e) { added = e; });
  EXPECT_FALSE(added);  // appended, not replicated: no answer yet
  EXPECT_EQ(last_value().state, txn_state::ongoing);
  EXPECT_EQ(state(), "Empty");  // and not applied
  // Kafka's pendingState: everything else for the id waits.
  EXPECT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 1}}), errc::concurrent_transactions);
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, false), errc::concurrent_transactions);
  EXPECT_EQ(init().error, errc::concurrent_transactions);
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch, {"t", 0}), errc::concurrent_transactions);
  // Other ids are not blocked (their write is held too).
  init_pid_request other;
  other.transactional_id = "other";
  other.transaction_timeout_ms = 1000;
  std::optional<init_pid_response> other_answer;
  tm->init_producer_id(P, other, [&](init_pid_response r) { other_answer = r; });
  EXPECT_FALSE(other_answer);
  EXPECT_EQ(log->held.size(), 2u);
  log->hold = false;
  log->release();
  ASSERT_TRUE(added);
  EXPECT_EQ(*added, errc::none);
  EXPECT_EQ(state(), "Ongoing");
  EXPECT_EQ(tm->describe(P, "tx").partitions, (std::vector<topic_partition>{{"t", 0}}));
  ASSERT_TRUE(other_answer);
  EXPECT_EQ(other_answer->error, errc::none);
  EXPECT_EQ(other_answer->producer_epoch, 0);
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch, {"t", 0}), errc::none);
}

TEST_F(TransactionManager, ReplicationFailureLeavesStateAndMapsErrors) {
  auto a = init();
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  log->hold = true;
  std::optional<errc> ended;
  tm->end_txn(P, "tx", a.producer_id, a.producer_epoch, true, [&](errc e) { ended = e; });
  EXPECT_FALSE(ended);
  log->release(make_error_code(write_errc::timed_out));
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, errc::coordinator_not_available);
  EXPECT_EQ(state(), "Ongoing");
  EXPECT_TRUE(markers.empty());
  ended.reset();
  tm->end_txn(P, "tx", a.producer_id, a.producer_epoch, true, [&](errc e) { ended = e; });
  log->release(make_error_code(write_errc::not_leader));
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, errc::not_coordinator);
  EXPECT_EQ(state(), "Ongoing");
  // A first InitProducerId whose write fails leaves no trace of the id.
  init_pid_request r;
  r.transactional_id = "new";
  r.transaction_timeout_ms = 1000;
  std::optional<init_pid_response> got;
  tm->init_producer_id(P, r, [&](init_pid_response x) { got = x; });
  EXPECT_EQ(tm->describe(P, "new").state, "Empty");  // in the cache, pending
  log->release(make_error_code(write_errc::not_enough_replicas_after_append));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->error, errc::coordinator_not_available);
  EXPECT_EQ(tm->describe(P, "new").error, errc::transactional_id_not_found);
  log->hold = false;
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::none);
  EXPECT_EQ(state(), "PrepareCommit");
}

TEST_F(TransactionManager, UnloadAnswersPendingTransitionsNotCoordinator) {
  auto a = init();
  log->hold = true;
  std::optional<errc> added;
  tm->add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}, [&](errc e) { added = e; });
  tm->unload(P);
  ASSERT_TRUE(added);
  EXPECT_EQ(*added, errc::not_coordinator);
  log->hold = false;
  log->release();  // the store is gone: nothing left to complete
  // Reloaded: the appended Ongoing record is in the log (it may yet be committed by the new
  // leader, as in Kafka), and the reload reads it.
  restart();
  EXPECT_EQ(state(), "Ongoing");
}

TEST_F(TransactionManager, MarkersConfirmationWaitsForCompleteToReplicate) {
  auto a = init();
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  ASSERT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::none);
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_TRUE(tm->awaits_markers(markers[0]));
  auto other_epoch = markers[0];
  other_epoch.producer_epoch++;
  EXPECT_FALSE(tm->awaits_markers(other_epoch));
  auto other_result = markers[0];
  other_result.commit = false;
  EXPECT_FALSE(tm->awaits_markers(other_result));
  log->hold = true;
  EXPECT_TRUE(tm->markers_written(markers[0]));
  EXPECT_FALSE(tm->awaits_markers(markers[0]));
  EXPECT_FALSE(tm->markers_written(markers[0]));  // already being completed
  EXPECT_EQ(state(), "PrepareCommit");
  EXPECT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::concurrent_transactions);
  log->release(make_error_code(write_errc::timed_out));
  EXPECT_EQ(state(), "PrepareCommit");  // failed: markers are re-emitted by tick
  clock.advance_ms(cfg.marker_retry_interval_ms);
  tm->tick();
  ASSERT_EQ(markers.size(), 2u);
  log->hold = false;
  EXPECT_TRUE(tm->markers_written(markers[1]));
  EXPECT_EQ(state(), "CompleteCommit");
}

TEST_F(TransactionManager, VerifyChecksTheOngoingTransaction) {
  auto a = init();
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch, {"t", 0}), errc::invalid_txn_state);  // Empty
  ASSERT_EQ(add_partitions(P, "tx", a.producer_id, a.producer_epoch, {{"t", 0}}), errc::none);
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch, {"t", 0}), errc::none);
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch, {"t", 1}), errc::invalid_txn_state);
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch + 1, {"t", 0}), errc::producer_fenced);
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id + 1, a.producer_epoch, {"t", 0}), errc::invalid_producer_id_mapping);
  EXPECT_EQ(tm->verify(P, "nope", a.producer_id, a.producer_epoch, {"t", 0}), errc::invalid_producer_id_mapping);
  EXPECT_EQ(tm->verify(P + 1, "tx", a.producer_id, a.producer_epoch, {"t", 0}), errc::not_coordinator);
  ASSERT_EQ(end_txn(P, "tx", a.producer_id, a.producer_epoch, true), errc::none);
  // Late produce after EndTxn is refused.
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch, {"t", 0}), errc::concurrent_transactions);
  ASSERT_TRUE(tm->markers_written(markers[0]));
  EXPECT_EQ(tm->verify(P, "tx", a.producer_id, a.producer_epoch, {"t", 0}), errc::invalid_txn_state);
}

TEST(TxnWriteError, MapsAsKafkasTransactionStateManager) {
  EXPECT_EQ(write_error({}), errc::none);
  EXPECT_EQ(write_error(make_error_code(write_errc::unknown_partition)), errc::coordinator_not_available);
  EXPECT_EQ(write_error(make_error_code(write_errc::not_enough_replicas)), errc::coordinator_not_available);
  EXPECT_EQ(write_error(make_error_code(write_errc::not_enough_replicas_after_append)), errc::coordinator_not_available);
  EXPECT_EQ(write_error(make_error_code(write_errc::timed_out)), errc::coordinator_not_available);
  EXPECT_EQ(write_error(make_error_code(write_errc::not_leader)), errc::not_coordinator);
  EXPECT_EQ(write_error(make_error_code(write_errc::storage_error)), errc::not_coordinator);
  EXPECT_EQ(write_error(make_error_code(write_errc::too_large)), errc::unknown_server_error);
  EXPECT_EQ(write_error(std::make_error_code(std::errc::io_error)), errc::unknown_server_error);
}

}  // namespace
}  // namespace sluice::coordinator::txn
