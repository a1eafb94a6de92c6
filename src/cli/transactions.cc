// `sluice transactions list|describe|describe-producers`: what kafka-transactions.sh shows, so an
// operator can find a stuck transaction. librdkafka 2.0.2 has no API for ListTransactions,
// DescribeTransactions or DescribeProducers, so these go over raw_connection; librdkafka still
// supplies the cluster's brokers and partition leaders (Metadata).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/api_probe.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/raw_client.h"
#include "protocol/error_code.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_transactions.h"

namespace sluice::cli {
namespace {

using json = nlohmann::ordered_json;

// FindCoordinator's key type for a transactional id.
constexpr int8_t coordinator_key_transaction = 1;

// API keys: FindCoordinator 10, DescribeProducers 61, DescribeTransactions 65, ListTransactions 66.
constexpr int16_t api_find_coordinator = 10;
constexpr int16_t api_describe_producers = 61;
constexpr int16_t api_describe_transactions = 65;
constexpr int16_t api_list_transactions = 66;

std::string error_name(int16_t code) {
  return std::string(protocol::error_code_name(static_cast<protocol::error_code>(code)));
}

const rd_kafka_metadata_broker_t* find_broker(const rd_kafka_metadata_t* md, int32_t id) {
  for (int i = 0; i < md->broker_cnt; ++i)
    if (md->brokers[i].id == id) return &md->brokers[i];
  return nullptr;
}

bool connect_to(raw_connection& conn, const rd_kafka_metadata_broker_t& b, const client_options& opts,
                std::string& error) {
  return conn.connect(b.host, b.port, opts.timeout_ms, error);
}

std::string format_time_ms(int64_t ms) {
  if (ms < 0) return "-";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// ---- list ----

struct list_args {
  client_options client;
  std::vector<std::string> states;
  std::vector<int64_t> producer_ids;
  int64_t duration_filter_ms = -1;  // >= 0: ListTransactions v1 (KIP-994)
  bool json = false;
};

// ListTransactions v1 (its duration filter) on broker `b`, if it advertises that version.
bool supports_list_transactions_v1(const rd_kafka_metadata_broker_t& b, const client_options& opts,
                                   std::string& error) {
  std::vector<api_range> apis;
  if (!probe_api_versions(b.host, b.port, opts.timeout_ms, apis, error)) return false;
  if (max_version_of(apis, api_list_transactions) >= 1) return true;
  error = "does not support ListTransactions v1, which --duration-filter needs (Kafka 3.8 or later)";
  return false;
}

void run_list(const list_args& a) {
  const char* name = "transactions list";
  auto s = open_session(name, a.client, {api_list_transactions});
  if (!s) return;
  std::vector<const rd_kafka_metadata_broker_t*> brokers;
  for (int i = 0; i < s->md->broker_cnt; ++i) brokers.push_back(&s->md->brokers[i]);
  std::sort(brokers.begin(), brokers.end(), [](auto* x, auto* y) { return x->id < y->id; });

  // Every broker coordinates the transactional ids of the __transaction_state partitions it leads.
  struct row {
    std::string id, state;
    int64_t producer_id;
    int32_t coordinator;
  };
  std::vector<row> rows;
  for (auto* b : brokers) {
    raw_connection conn;
    std::string error;
    protocol::list_transactions_request req;
    req.state_filters = a.states;
    req.producer_id_filters = a.producer_ids;
    req.duration_filter = a.duration_filter_ms;
    const int16_t version = a.duration_filter_ms >= 0 ? 1 : 0;
    if (version == 1 && !supports_list_transactions_v1(*b, a.client, error))
      return report_error(name, "broker " + std::to_string(b->id) + ": " + error);
    protocol::list_transactions_response resp;
    if (!connect_to(conn, *b, a.client, error) ||
        !conn.call<protocol::list_transactions_api>(req, version, resp, error))
      return report_error(name, "broker " + std::to_string(b->id) + ": " + error);
    if (resp.error_code != 0)
      return report_error(name, "broker " + std::to_string(b->id) + ": " + error_name(resp.error_code));
    if (!resp.unknown_state_filters.empty()) {
      std::string unknown;
      for (const auto& st : resp.unknown_state_filters) unknown += (unknown.empty() ? "" : ", ") + st;
      return report_error(name, "unknown transaction state: " + unknown, exit_usage);
    }
    for (const auto& t : resp.transaction_states)
      rows.push_back({t.transactional_id, t.transaction_state, t.producer_id, b->id});
  }
  std::sort(rows.begin(), rows.end(), [](const row& x, const row& y) { return x.id < y.id; });
  if (a.json) {
    json out = json::array();
    for (const auto& r : rows)
      out.push_back({{"transactional_id", r.id}, {"coordinator", r.coordinator}, {"producer_id", r.producer_id},
                     {"state", r.state}});
    return print_json(out);
  }
  table t({"TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE"});
  for (const auto& r : rows) t.add({r.id, std::to_string(r.coordinator), std::to_string(r.producer_id), r.state});
  t.print();
}

// ---- describe ----

struct describe_args {
  client_options client;
  std::string transactional_id;
  bool json = false;
};

void run_describe(const describe_args& a) {
  const char* name = "transactions describe";
  auto s = open_session(name, a.client, {api_find_coordinator, api_describe_transactions});
  if (!s) return;
  std::string error;
  raw_connection bootstrap;
  protocol::find_coordinator_request fc;
  fc.key = a.transactional_id;
  fc.key_type = coordinator_key_transaction;
  protocol::find_coordinator_response fcr;
  const auto& first = s->md->brokers[0];
  if (!connect_to(bootstrap, first, a.client, error) ||
      !bootstrap.call<protocol::find_coordinator_api>(fc, 1, fcr, error))
    return report_error(name, "FindCoordinator: " + error);
  if (fcr.error_code != 0)
    return report_error(name, "no coordinator for transactional id '" + a.transactional_id +
                                  "': " + error_name(fcr.error_code));
  raw_connection coordinator;
  protocol::describe_transactions_request req;
  req.transactional_ids = {a.transactional_id};
  protocol::describe_transactions_response resp;
  if (!coordinator.connect(fcr.host, fcr.port, a.client.timeout_ms, error) ||
      !coordinator.call<protocol::describe_transactions_api>(req, 0, resp, error))
    return report_error(name, "coordinator " + std::to_string(fcr.node_id) + ": " + error);
  if (resp.transaction_states.size() != 1)
    return report_error(name, "coordinator " + std::to_string(fcr.node_id) + " answered " +
                                  std::to_string(resp.transaction_states.size()) + " transactions for one id");
  const auto& t = resp.transaction_states[0];
  if (t.error_code != 0)
    return report_error(name, "transactional id '" + a.transactional_id + "': " + error_name(t.error_code));
  std::vector<std::string> partitions;
  for (const auto& topic : t.topics)
    for (int32_t p : topic.partitions) partitions.push_back(topic.topic + "-" + std::to_string(p));
  int64_t duration = t.transaction_start_time_ms >= 0 ? now_ms() - t.transaction_start_time_ms : -1;
  if (a.json) {
    return print_json({{"coordinator", fcr.node_id},
                       {"transactional_id", t.transactional_id},
                       {"producer_id", t.producer_id},
                       {"producer_epoch", t.producer_epoch},
                       {"state", t.transaction_state},
                       {"timeout_ms", t.transaction_timeout_ms},
                       {"start_time_ms", t.transaction_start_time_ms},
                       {"duration_ms", duration},
                       {"partitions", partitions}});
  }
  std::string joined;
  for (const auto& p : partitions) joined += (joined.empty() ? "" : ",") + p;
  table out({"COORDINATOR", "TRANSACTIONAL-ID", "PRODUCER-ID", "PRODUCER-EPOCH", "STATE", "TIMEOUT-MS",
             "START-TIME", "DURATION-MS", "PARTITIONS"});
  out.add({std::to_string(fcr.node_id), t.transactional_id, std::to_string(t.producer_id),
           std::to_string(t.producer_epoch), t.transaction_state, std::to_string(t.transaction_timeout_ms),
           format_time_ms(t.transaction_start_time_ms), duration >= 0 ? std::to_string(duration) : "-",
           joined.empty() ? "-" : joined});
  out.print();
}

// ---- describe-producers ----

struct producers_args {
  client_options client;
  std::string topic;
  int32_t partition = 0;
  bool json = false;
};

void run_describe_producers(const producers_args& a) {
  const char* name = "transactions describe-producers";
  auto s = open_session(name, a.client, {api_describe_producers});
  if (!s) return;
  const auto* t = find_topic(s->md.get(), a.topic);
  if (!t) return report_error(name, "topic '" + a.topic + "' does not exist");
  if (a.partition < 0 || a.partition >= t->partition_cnt)
    return report_error(name, "topic '" + a.topic + "' has no partition " + std::to_string(a.partition) + " (it has " +
                                  std::to_string(t->partition_cnt) + ")");
  int32_t leader = t->partitions[a.partition].leader;
  const auto* b = find_broker(s->md.get(), leader);
  if (!b) return report_error(name, a.topic + "-" + std::to_string(a.partition) + " has no leader");
  std::string error;
  raw_connection conn;
  protocol::describe_producers_request req;
  req.topics.push_back({});
  req.topics[0].name = a.topic;
  req.topics[0].partition_indexes = {a.partition};
  protocol::describe_producers_response resp;
  if (!connect_to(conn, *b, a.client, error) || !conn.call<protocol::describe_producers_api>(req, 0, resp, error))
    return report_error(name, "broker " + std::to_string(leader) + ": " + error);
  if (resp.topics.size() != 1 || resp.topics[0].partitions.size() != 1)
    return report_error(name, "broker " + std::to_string(leader) + " answered for other partitions");
  const auto& p = resp.topics[0].partitions[0];
  if (p.error_code != 0)
    return report_error(name, a.topic + "-" + std::to_string(a.partition) + ": " + error_name(p.error_code) +
                                  (p.error_message ? " (" + *p.error_message + ")" : ""));
  if (a.json) {
    json out = json::array();
    for (const auto& ps : p.active_producers)
      out.push_back({{"producer_id", ps.producer_id}, {"producer_epoch", ps.producer_epoch},
                     {"coordinator_epoch", ps.coordinator_epoch}, {"last_sequence", ps.last_sequence},
                     {"last_timestamp", ps.last_timestamp}, {"current_txn_start_offset", ps.current_txn_start_offset}});
    return print_json(out);
  }
  table out({"PRODUCER-ID", "PRODUCER-EPOCH", "COORDINATOR-EPOCH", "LAST-SEQUENCE", "LAST-TIMESTAMP",
             "CURRENT-TXN-START-OFFSET"});
  for (const auto& ps : p.active_producers)
    out.add({std::to_string(ps.producer_id), std::to_string(ps.producer_epoch), std::to_string(ps.coordinator_epoch),
             std::to_string(ps.last_sequence), format_time_ms(ps.last_timestamp),
             ps.current_txn_start_offset >= 0 ? std::to_string(ps.current_txn_start_offset) : "None"});
  out.print();
}

}  // namespace

void add_transaction_commands(CLI::App& app) {
  auto* txn = app.add_subcommand("transactions", "Inspect transactions and producers (as kafka-transactions.sh)");
  txn->require_subcommand(1);

  auto la = std::make_shared<list_args>();
  auto* list = txn->add_subcommand("list", "Transactional ids known to every coordinator, with their state");
  list->add_option("--state", la->states, "Only these states (Ongoing, PrepareCommit, CompleteAbort, ...)");
  list->add_option("--producer-id", la->producer_ids, "Only these producer ids");
  list->add_option("--duration-filter", la->duration_filter_ms,
                   "Only transactions running longer than this many ms (ListTransactions v1)")
      ->check(CLI::NonNegativeNumber);
  list->add_flag("--json", la->json, "Print one JSON document");
  add_client_options(list, la->client);
  list->callback([la] { run_list(*la); });

  auto da = std::make_shared<describe_args>();
  auto* describe = txn->add_subcommand("describe", "State, producer, timeout and partitions of one transactional id");
  describe->add_option("--transactional-id", da->transactional_id, "The transactional id")->required();
  describe->add_flag("--json", da->json, "Print one JSON document");
  add_client_options(describe, da->client);
  describe->callback([da] { run_describe(*da); });

  auto pa = std::make_shared<producers_args>();
  auto* producers = txn->add_subcommand("describe-producers",
                                        "Producers writing to one partition, and where their open transaction starts");
  producers->add_option("--topic", pa->topic, "Topic")->required();
  producers->add_option("--partition", pa->partition, "Partition")->required()->check(CLI::NonNegativeNumber);
  producers->add_flag("--json", pa->json, "Print one JSON document");
  add_client_options(producers, pa->client);
  producers->callback([pa] { run_describe_producers(*pa); });
}

}  // namespace sluice::cli
