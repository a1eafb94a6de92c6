// `sluice topic create|list|describe|delete|add-partitions|alter-config` through librdkafka's
// admin API (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs) and
// Metadata; offsets come from ListOffsets (query_watermark_offsets).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sluice::cli {
namespace {

using json = nlohmann::ordered_json;

// Checks every per-topic result of CreateTopics/DeleteTopics/CreatePartitions; reports each
// failure and returns how many failed.
int report_topic_results(std::string_view command, const rd_kafka_topic_result_t** results, size_t n,
                         const char* verb, int32_t brokers) {
  int failed = 0;
  for (size_t i = 0; i < n; ++i) {
    const char* name = rd_kafka_topic_result_name(results[i]);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::printf("%s %s\n", verb, name);
      continue;
    }
    ++failed;
    std::string msg = std::string("topic '") + name + "': " +
                      describe_error(err, rd_kafka_topic_result_error_string(results[i]));
    if (err == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR) {
      msg += "; the cluster has " + std::to_string(brokers) + " broker(s), so --replicas must be at most " +
             std::to_string(brokers);
    } else if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      msg = std::string("unknown topic '") + name + "'";
    }
    report_error(command, msg);
  }
  return failed;
}

// One admin session: a client, its metadata (which proves the brokers are reachable) and a
// result queue.
struct admin_session {
  rk_ptr rk;
  metadata_ptr md;
  queue_ptr queue;
};

std::unique_ptr<admin_session> open_admin(std::string_view command, const client_options& opts) {
  std::string error;
  auto s = std::make_unique<admin_session>();
  s->rk = make_client(RD_KAFKA_PRODUCER, opts, {}, error);
  if (s->rk) s->md = fetch_metadata(s->rk.get(), opts, error);
  if (!s->md) {
    report_error(command, error);
    return nullptr;
  }
  s->queue.reset(rd_kafka_queue_new(s->rk.get()));
  return s;
}

struct config_entry {
  std::string name;
  std::string value;
  bool is_null = false;
  std::string source;
  bool is_default = false;
  bool is_sensitive = false;
};

// DescribeConfigs of one topic. Empty optional (and an error reported) on failure.
std::optional<std::vector<config_entry>> describe_topic_configs(std::string_view command, admin_session& s,
                                                                const client_options& opts,
                                                                const std::string& topic) {
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  auto options = make_admin_options(s.rk.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, opts);
  rd_kafka_DescribeConfigs(s.rk.get(), &res, 1, options.get(), s.queue.get());
  rd_kafka_ConfigResource_destroy(res);
  std::string error;
  auto ev = wait_admin_result(s.queue.get(), opts, error);
  if (!ev) {
    report_error(command, "describe configs of '" + topic + "': " + error);
    return std::nullopt;
  }
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  std::vector<config_entry> out;
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      report_error(command, "describe configs of '" + topic + "': " +
                                describe_error(err, rd_kafka_ConfigResource_error_string(resources[i])));
      return std::nullopt;
    }
    size_t cnt = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[i], &cnt);
    for (size_t j = 0; j < cnt; ++j) {
      config_entry e;
      e.name = rd_kafka_ConfigEntry_name(entries[j]);
      const char* v = rd_kafka_ConfigEntry_value(entries[j]);
      e.is_null = v == nullptr;
      e.value = v ? v : "";
      e.source = rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(entries[j]));
      e.is_default = rd_kafka_ConfigEntry_is_default(entries[j]);
      e.is_sensitive = rd_kafka_ConfigEntry_is_sensitive(entries[j]);
      out.push_back(std::move(e));
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

std::vector<int32_t> as_vector(const int32_t* p, int n) { return std::vector<int32_t>(p, p + n); }

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

// ---- create ---------------------------------------------------------------------------------

void add_create(CLI::App* topic) {
  struct args_t {
    client_options client;
    std::vector<std::string> names;
    int32_t partitions = -1;
    int32_t replicas = -1;
    std::vector<std::string> configs;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = topic->add_subcommand("create", "Create topics");
  cmd->add_option("name", a->names, "Topic names")->required();
  cmd->add_option("-p,--partitions", a->partitions, "Partitions per topic (default: the broker's num.partitions)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("-r,--replicas,--replication-factor", a->replicas,
                  "Replication factor (default: the broker's default.replication.factor)")
      ->check(CLI::Range(1, 32767));
  cmd->add_option("-c,--config", a->configs, "Topic config key=value (repeatable)");
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "topic create";
    std::vector<std::pair<std::string, std::string>> configs;
    for (auto& c : a->configs) {
      std::string k, v;
      if (!split_key_value(c, k, v)) return report_error(name, "--config expects key=value, got '" + c + "'", exit_usage);
      configs.emplace_back(k, v);
    }
    auto s = open_admin(name, a->client);
    if (!s) return;
    std::vector<rd_kafka_NewTopic_t*> topics;
    char errstr[512];
    for (auto& t : a->names) {
      rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.c_str(), a->partitions, a->replicas, errstr, sizeof errstr);
      if (!nt) {
        for (auto* x : topics) rd_kafka_NewTopic_destroy(x);
        return report_error(name, "topic '" + t + "': " + errstr, exit_usage);
      }
      for (auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
      topics.push_back(nt);
    }
    auto options = make_admin_options(s->rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, a->client);
    rd_kafka_CreateTopics(s->rk.get(), topics.data(), topics.size(), options.get(), s->queue.get());
    rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
    std::string error;
    auto ev = wait_admin_result(s->queue.get(), a->client, error);
    if (!ev) return report_error(name, error);
    size_t n = 0;
    auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    report_topic_results(name, results, n, "created topic", s->md->broker_cnt);
  });
}

// ---- list -----------------------------------------------------------------------------------

void add_list(CLI::App* topic) {
  struct args_t {
    client_options client;
    bool json = false;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = topic->add_subcommand("list", "List topics with their partition counts and replication factors");
  cmd->alias("ls");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    auto s = open_admin("topic list", a->client);
    if (!s) return;
    std::vector<const rd_kafka_metadata_topic_t*> topics;
    for (int i = 0; i < s->md->topic_cnt; ++i) topics.push_back(&s->md->topics[i]);
    std::sort(topics.begin(), topics.end(), [](auto* x, auto* y) { return std::string_view(x->topic) < y->topic; });
    json out = json::array();
    table t({"NAME", "PARTITIONS", "REPLICAS"});
    for (auto* tp : topics) {
      int replicas = tp->partition_cnt > 0 ? tp->partitions[0].replica_cnt : 0;
      out.push_back({{"name", tp->topic}, {"partitions", tp->partition_cnt}, {"replicas", replicas}});
      t.add({tp->topic, std::to_string(tp->partition_cnt), std::to_string(replicas)});
    }
    if (a->json) print_json(out);
    else t.print();
  });
}

// ---- describe -------------------------------------------------------------------------------

void add_describe(CLI::App* topic) {
  struct args_t {
    client_options client;
    std::vector<std::string> names;
    bool json = false;
    bool all_configs = false;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = topic->add_subcommand("describe", "Show partitions (leader, replicas, ISR, offsets) and configs");
  cmd->add_option("name", a->names, "Topic names")->required();
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->add_flag("-a,--all-configs", a->all_configs, "Also list configs left at their defaults");
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "topic describe";
    auto s = open_admin(name, a->client);
    if (!s) return;
    json out = json::array();
    for (auto& tname : a->names) {
      const rd_kafka_metadata_topic_t* tp = find_topic(s->md.get(), tname);
      if (!tp) {
        report_error(name, "unknown topic '" + tname + "'");
        continue;
      }
      if (tp->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        report_error(name, "topic '" + tname + "': " + describe_error(tp->err));
        continue;
      }
      auto configs = describe_topic_configs(name, *s, a->client, tname);
      if (!configs) continue;
      std::vector<const rd_kafka_metadata_partition_t*> parts;
      for (int i = 0; i < tp->partition_cnt; ++i) parts.push_back(&tp->partitions[i]);
      std::sort(parts.begin(), parts.end(), [](auto* x, auto* y) { return x->id < y->id; });
      json jparts = json::array();
      table pt({"PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "HIGH-WATERMARK"});
      bool offsets_ok = true;
      for (auto* p : parts) {
        int64_t low = -1, high = -1;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(s->rk.get(), tname.c_str(), p->id, &low, &high, a->client.timeout_ms);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          report_error(name, "offsets of " + tname + "/" + std::to_string(p->id) + ": " + describe_error(err));
          offsets_ok = false;
          break;
        }
        auto replicas = as_vector(p->replicas, p->replica_cnt);
        auto isr = as_vector(p->isrs, p->isr_cnt);
        jparts.push_back({{"partition", p->id}, {"leader", p->leader}, {"replicas", replicas}, {"isr", isr},
                          {"log_start_offset", low}, {"high_watermark", high}});
        pt.add({std::to_string(p->id), std::to_string(p->leader), join_ids(replicas), join_ids(isr),
                std::to_string(low), std::to_string(high)});
      }
      if (!offsets_ok) continue;
      json jconf = json::object();
      table ct({"KEY", "VALUE", "SOURCE"});
      for (auto& c : *configs) {
        if (!a->all_configs && c.is_default) continue;
        std::string shown = c.is_sensitive ? "(sensitive)" : c.is_null ? "(null)" : c.value;
        jconf[c.name] = {{"value", c.is_null || c.is_sensitive ? json(nullptr) : json(c.value)},
                         {"source", c.source}, {"default", c.is_default}};
        ct.add({c.name, shown, c.source});
      }
      int replicas = tp->partition_cnt > 0 ? tp->partitions[0].replica_cnt : 0;
      out.push_back({{"name", tname}, {"partitions", jparts}, {"replication_factor", replicas},
                     {"configs", jconf}});
      if (!a->json) {
        if (out.size() > 1) std::printf("\n");
        std::printf("TOPIC %s: %d partition(s), replication factor %d\n\n", tname.c_str(), tp->partition_cnt, replicas);
        pt.print();
        std::printf("\nCONFIGS (%s)\n", a->all_configs ? "all" : "set explicitly; -a for all");
        ct.print();
      }
    }
    if (a->json) print_json(out);
  });
}

// ---- delete ---------------------------------------------------------------------------------

void add_delete(CLI::App* topic) {
  struct args_t {
    client_options client;
    std::vector<std::string> names;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = topic->add_subcommand("delete", "Delete topics and all their data");
  cmd->alias("rm");
  cmd->add_option("name", a->names, "Topic names")->required();
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "topic delete";
    auto s = open_admin(name, a->client);
    if (!s) return;
    std::vector<rd_kafka_DeleteTopic_t*> topics;
    for (auto& t : a->names) topics.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
    auto options = make_admin_options(s->rk.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, a->client);
    rd_kafka_DeleteTopics(s->rk.get(), topics.data(), topics.size(), options.get(), s->queue.get());
    rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
    std::string error;
    auto ev = wait_admin_result(s->queue.get(), a->client, error);
    if (!ev) return report_error(name, error);
    size_t n = 0;
    auto** results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
    report_topic_results(name, results, n, "deleted topic", s->md->broker_cnt);
  });
}

// ---- add-partitions -------------------------------------------------------------------------

void add_add_partitions(CLI::App* topic) {
  struct args_t {
    client_options client;
    std::string topic;
    int32_t add = 0;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = topic->add_subcommand("add-partitions", "Add partitions to a topic (keyed records may move)");
  cmd->add_option("name", a->topic, "Topic name")->required();
  cmd->add_option("-n,--num", a->add, "How many partitions to add")->required()->check(CLI::Range(1, 1 << 20));
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "topic add-partitions";
    auto s = open_admin(name, a->client);
    if (!s) return;
    const rd_kafka_metadata_topic_t* tp = find_topic(s->md.get(), a->topic);
    if (!tp) return report_error(name, "unknown topic '" + a->topic + "'");
    int32_t total = tp->partition_cnt + a->add;
    char errstr[512];
    rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(a->topic.c_str(), total, errstr, sizeof errstr);
    if (!np) return report_error(name, errstr, exit_usage);
    auto options = make_admin_options(s->rk.get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, a->client);
    rd_kafka_CreatePartitions(s->rk.get(), &np, 1, options.get(), s->queue.get());
    rd_kafka_NewPartitions_destroy(np);
    std::string error;
    auto ev = wait_admin_result(s->queue.get(), a->client, error);
    if (!ev) return report_error(name, error);
    size_t n = 0;
    auto** results = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev.get()), &n);
    if (report_topic_results(name, results, n, "added partitions to", s->md->broker_cnt) == 0) {
      std::printf("%s now has %d partitions\n", a->topic.c_str(), total);
    }
  });
}

// ---- alter-config ---------------------------------------------------------------------------

void add_alter_config(CLI::App* topic) {
  struct args_t {
    client_options client;
    std::string topic;
    std::vector<std::string> sets;
    std::vector<std::string> deletes;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = topic->add_subcommand(
      "alter-config", "Set or delete topic configs (others keep their values)");
  cmd->add_option("name", a->topic, "Topic name")->required();
  cmd->add_option("-s,--set", a->sets, "key=value to set (repeatable)");
  cmd->add_option("-d,--delete", a->deletes, "Config key to reset to its default (repeatable)");
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "topic alter-config";
    if (a->sets.empty() && a->deletes.empty()) return report_error(name, "nothing to do: give --set or --delete", exit_usage);
    std::map<std::string, std::string> changes;
    for (auto& c : a->sets) {
      std::string k, v;
      if (!split_key_value(c, k, v)) return report_error(name, "--set expects key=value, got '" + c + "'", exit_usage);
      changes[k] = v;
    }
    auto s = open_admin(name, a->client);
    if (!s) return;
    if (!find_topic(s->md.get(), a->topic)) return report_error(name, "unknown topic '" + a->topic + "'");
    // AlterConfigs (the only config-changing API in librdkafka 2.0.2) replaces the whole set of
    // dynamic configs, so the current ones are read first and merged.
    auto current = describe_topic_configs(name, *s, a->client, a->topic);
    if (!current) return;
    std::map<std::string, std::string> merged;
    for (auto& c : *current) {
      if (c.source == "DYNAMIC_TOPIC_CONFIG" && !c.is_null && !c.is_sensitive) merged[c.name] = c.value;
    }
    for (auto& d : a->deletes) merged.erase(d);
    for (auto& [k, v] : changes) merged[k] = v;
    rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, a->topic.c_str());
    for (auto& [k, v] : merged) rd_kafka_ConfigResource_set_config(res, k.c_str(), v.c_str());
    auto options = make_admin_options(s->rk.get(), RD_KAFKA_ADMIN_OP_ALTERCONFIGS, a->client);
    rd_kafka_AlterConfigs(s->rk.get(), &res, 1, options.get(), s->queue.get());
    rd_kafka_ConfigResource_destroy(res);
    std::string error;
    auto ev = wait_admin_result(s->queue.get(), a->client, error);
    if (!ev) return report_error(name, error);
    size_t n = 0;
    auto** results = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return report_error(name, "topic '" + a->topic + "': " +
                                      describe_error(err, rd_kafka_ConfigResource_error_string(results[i])));
      }
    }
    for (auto& [k, v] : changes) std::printf("set %s=%s\n", k.c_str(), v.c_str());
    for (auto& d : a->deletes) std::printf("deleted %s\n", d.c_str());
  });
}

}  // namespace

void add_topic_commands(CLI::App& app) {
  auto* topic = app.add_subcommand("topic", "Create, list, describe, delete and alter topics");
  topic->require_subcommand(1);
  add_create(topic);
  add_list(topic);
  add_describe(topic);
  add_delete(topic);
  add_add_partitions(topic);
  add_alter_config(topic);
}

}  // namespace sluice::cli
