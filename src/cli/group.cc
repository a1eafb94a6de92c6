// `sluice group list|describe|delete|reset-offsets` through librdkafka's admin API
// (ListGroups, DescribeGroups, OffsetFetch, DeleteGroups, OffsetCommit) plus ListOffsets for
// log end offsets and lag. Output columns follow kafka-consumer-groups.sh.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sluice::cli {
namespace {

using json = nlohmann::ordered_json;

struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

// API keys for open_session: OffsetCommit 8, OffsetFetch 9, FindCoordinator 10, DescribeGroups 15,
// ListGroups 16, DeleteGroups 42.

std::string state_name(rd_kafka_consumer_group_state_t st) { return rd_kafka_consumer_group_state_name(st); }

struct member_info {
  std::string consumer_id, client_id, host, instance_id;
  std::vector<std::pair<std::string, int32_t>> assignment;
};

struct group_info {
  std::string id;
  std::string state;
  std::string assignor;
  int32_t coordinator = -1;
  bool simple = false;
  std::vector<member_info> members;
};

// A coordinator that is loading or moving answers these; Kafka's AdminClient retries them, but
// librdkafka 2.0.2 hands them to the application per group, so the CLI retries until --timeout.
bool coordinator_busy(rd_kafka_resp_err_t e) {
  return e == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS || e == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
         e == RD_KAFKA_RESP_ERR_NOT_COORDINATOR;
}
constexpr std::chrono::milliseconds coordinator_retry_backoff{200};

// DescribeGroups for `groups`; an error per group is reported and that group left out.
std::vector<group_info> describe_groups(std::string_view command, session& s, const client_options& opts,
                                        const std::vector<std::string>& groups, bool& failed) {
  std::vector<const char*> names;
  for (auto& g : groups) names.push_back(g.c_str());
  std::string error;
  std::vector<group_info> out;
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs = nullptr;
  decltype(wait_admin_result(s.queue.get(), opts, error)) ev;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts.timeout_ms);
  while (true) {
    auto options = make_admin_options(s.rk.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, opts);
    rd_kafka_DescribeConsumerGroups(s.rk.get(), names.data(), names.size(), options.get(), s.queue.get());
    ev = wait_admin_result(s.queue.get(), opts, error);
    if (!ev) {
      report_error(command, "describe groups: " + error);
      failed = true;
      return out;
    }
    descs = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
    bool busy = false;
    for (size_t i = 0; i < n; ++i)
      if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(descs[i]))
        busy = busy || coordinator_busy(rd_kafka_error_code(e));
    if (!busy || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(coordinator_retry_backoff);
  }
  for (size_t i = 0; i < n; ++i) {
    const auto* d = descs[i];
    group_info g;
    g.id = rd_kafka_ConsumerGroupDescription_group_id(d);
    if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(d)) {
      report_error(command, "group '" + g.id + "': " + describe_error(rd_kafka_error_code(e), rd_kafka_error_string(e)));
      failed = true;
      continue;
    }
    auto st = rd_kafka_ConsumerGroupDescription_state(d);
    g.state = state_name(st);
    const char* assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d);
    g.assignor = assignor ? assignor : "";
    g.simple = rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(d);
    if (const rd_kafka_Node_t* c = rd_kafka_ConsumerGroupDescription_coordinator(d)) g.coordinator = rd_kafka_Node_id(c);
    for (size_t m = 0; m < rd_kafka_ConsumerGroupDescription_member_count(d); ++m) {
      const auto* md = rd_kafka_ConsumerGroupDescription_member(d, m);
      member_info mi;
      auto str = [](const char* p) { return std::string(p ? p : ""); };
      mi.consumer_id = str(rd_kafka_MemberDescription_consumer_id(md));
      mi.client_id = str(rd_kafka_MemberDescription_client_id(md));
      mi.host = str(rd_kafka_MemberDescription_host(md));
      mi.instance_id = str(rd_kafka_MemberDescription_group_instance_id(md));
      if (const auto* as = rd_kafka_MemberDescription_assignment(md)) {
        if (const auto* parts = rd_kafka_MemberAssignment_partitions(as)) {
          for (int p = 0; p < parts->cnt; ++p) mi.assignment.emplace_back(parts->elems[p].topic, parts->elems[p].partition);
        }
      }
      std::sort(mi.assignment.begin(), mi.assignment.end());
      g.members.push_back(std::move(mi));
    }
    out.push_back(std::move(g));
  }
  return out;
}

// Committed offsets of a group: (topic, partition) -> offset (-1 when none).
std::optional<std::map<std::pair<std::string, int32_t>, int64_t>> committed_offsets(std::string_view command, session& s,
                                                                                     const client_options& opts,
                                                                                     const std::string& group) {
  std::string error;
  size_t n = 0;
  const rd_kafka_group_result_t** res = nullptr;
  decltype(wait_admin_result(s.queue.get(), opts, error)) ev;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts.timeout_ms);
  while (true) {
    rd_kafka_ListConsumerGroupOffsets_t* req = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
    auto options = make_admin_options(s.rk.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, opts);
    rd_kafka_ListConsumerGroupOffsets(s.rk.get(), &req, 1, options.get(), s.queue.get());
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    ev = wait_admin_result(s.queue.get(), opts, error);
    if (!ev) {
      report_error(command, "committed offsets of group '" + group + "': " + error);
      return std::nullopt;
    }
    res = rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
    bool busy = false;
    for (size_t i = 0; i < n; ++i)
      if (const rd_kafka_error_t* e = rd_kafka_group_result_error(res[i])) busy = busy || coordinator_busy(rd_kafka_error_code(e));
    if (!busy || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(coordinator_retry_backoff);
  }
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(res[i])) {
      report_error(command, "committed offsets of group '" + group + "': " +
                                describe_error(rd_kafka_error_code(e), rd_kafka_error_string(e)));
      return std::nullopt;
    }
    if (const auto* parts = rd_kafka_group_result_partitions(res[i])) {
      for (int p = 0; p < parts->cnt; ++p) {
        const auto& e = parts->elems[p];
        if (e.err) continue;
        out[{e.topic, e.partition}] = e.offset;
      }
    }
  }
  return out;
}

// ---- list -----------------------------------------------------------------------------------

void add_list(CLI::App* group) {
  struct args_t {
    client_options client;
    bool json = false;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = group->add_subcommand("list", "List consumer groups with their states");
  cmd->alias("ls");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "group list";
    auto s = open_session(name, a->client, {10, 16});
    if (!s) return;
    auto options = make_admin_options(s->rk.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, a->client);
    rd_kafka_ListConsumerGroups(s->rk.get(), options.get(), s->queue.get());
    std::string error;
    auto ev = wait_admin_result(s->queue.get(), a->client, error);
    if (!ev) return report_error(name, error);
    const auto* result = rd_kafka_event_ListConsumerGroups_result(ev.get());
    size_t nerr = 0;
    auto** errors = rd_kafka_ListConsumerGroups_result_errors(result, &nerr);
    for (size_t i = 0; i < nerr; ++i) {
      report_error(name, describe_error(rd_kafka_error_code(errors[i]), rd_kafka_error_string(errors[i])));
    }
    if (nerr) return;
    size_t n = 0;
    auto** groups = rd_kafka_ListConsumerGroups_result_valid(result, &n);
    std::vector<std::tuple<std::string, std::string, bool>> rows;
    for (size_t i = 0; i < n; ++i) {
      rows.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]),
                        state_name(rd_kafka_ConsumerGroupListing_state(groups[i])),
                        rd_kafka_ConsumerGroupListing_is_simple_consumer_group(groups[i]));
    }
    std::sort(rows.begin(), rows.end());
    json out = json::array();
    table t({"GROUP", "STATE", "TYPE"});
    for (auto& [id, state, simple] : rows) {
      out.push_back({{"group", id}, {"state", state}, {"simple", simple}});
      t.add({id, state, simple ? "simple" : "consumer"});
    }
    if (a->json) print_json(out);
    else t.print();
  });
}

// ---- describe -------------------------------------------------------------------------------

void add_describe(CLI::App* group) {
  struct args_t {
    client_options client;
    std::vector<std::string> groups;
    bool json = false;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = group->add_subcommand("describe", "Members, assignments, committed offsets and lag per partition");
  cmd->add_option("group", a->groups, "Group ids")->required();
  cmd->add_flag("--json", a->json, "Print one JSON document");
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "group describe";
    auto s = open_session(name, a->client, {9, 10, 15});
    if (!s) return;
    bool failed = false;
    auto groups = describe_groups(name, *s, a->client, a->groups, failed);
    json out = json::array();
    bool first = true;
    for (auto& g : groups) {
      auto committed = committed_offsets(name, *s, a->client, g.id);
      if (!committed) continue;
      if ((g.state == "Dead" || g.state == "Unknown") && g.members.empty() && committed->empty()) {
        report_error(name, "unknown group '" + g.id + "'");
        continue;
      }
      // Every partition that has a committed offset or an owner.
      std::map<std::pair<std::string, int32_t>, const member_info*> owner;
      for (auto& m : g.members)
        for (auto& tp : m.assignment) owner[tp] = &m;
      std::set<std::pair<std::string, int32_t>> partitions;
      for (auto& [tp, off] : *committed) partitions.insert(tp);
      for (auto& [tp, m] : owner) partitions.insert(tp);
      json jparts = json::array();
      table pt({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"});
      for (auto& tp : partitions) {
        int64_t low = -1, high = -1;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(s->rk.get(), tp.first.c_str(), tp.second, &low, &high,
                                                                   a->client.timeout_ms);
        auto it = committed->find(tp);
        int64_t current = it == committed->end() ? -1 : it->second;
        std::optional<int64_t> lag;
        if (!err && current >= 0) lag = std::max<int64_t>(0, high - current);
        const member_info* m = owner.count(tp) ? owner[tp] : nullptr;
        jparts.push_back({{"topic", tp.first}, {"partition", tp.second},
                          {"current_offset", current >= 0 ? json(current) : json(nullptr)},
                          {"log_end_offset", err ? json(nullptr) : json(high)},
                          {"lag", lag ? json(*lag) : json(nullptr)},
                          {"consumer_id", m ? json(m->consumer_id) : json(nullptr)}});
        pt.add({tp.first, std::to_string(tp.second), current >= 0 ? std::to_string(current) : "-",
                err ? "-" : std::to_string(high), lag ? std::to_string(*lag) : "-", m ? m->consumer_id : "-",
                m ? m->host : "-", m ? m->client_id : "-"});
      }
      json jmembers = json::array();
      table mt({"CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"});
      for (auto& m : g.members) {
        json assignment = json::array();
        std::string text;
        for (auto& [t, p] : m.assignment) {
          assignment.push_back({{"topic", t}, {"partition", p}});
          text += (text.empty() ? "" : ",") + t + "/" + std::to_string(p);
        }
        jmembers.push_back({{"consumer_id", m.consumer_id}, {"client_id", m.client_id}, {"host", m.host},
                            {"group_instance_id", m.instance_id.empty() ? json(nullptr) : json(m.instance_id)},
                            {"assignment", assignment}});
        mt.add({m.consumer_id, m.host, m.client_id, std::to_string(m.assignment.size()), text.empty() ? "-" : text});
      }
      out.push_back({{"group", g.id}, {"state", g.state}, {"protocol", g.assignor}, {"coordinator", g.coordinator},
                     {"members", jmembers}, {"offsets", jparts}});
      if (!a->json) {
        if (!first) std::printf("\n");
        first = false;
        std::printf("GROUP %s: state %s, assignor %s, coordinator %d, %zu member(s)\n\n", g.id.c_str(),
                    g.state.c_str(), g.assignor.empty() ? "-" : g.assignor.c_str(), g.coordinator, g.members.size());
        pt.print();
        if (!g.members.empty()) {
          std::printf("\n");
          mt.print();
        }
      }
    }
    if (a->json) print_json(out);
  });
}

// ---- delete ---------------------------------------------------------------------------------

void add_delete(CLI::App* group) {
  struct args_t {
    client_options client;
    std::vector<std::string> groups;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = group->add_subcommand("delete", "Delete empty groups and their committed offsets");
  cmd->add_option("group", a->groups, "Group ids")->required();
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "group delete";
    auto s = open_session(name, a->client, {10, 42});
    if (!s) return;
    std::vector<rd_kafka_DeleteGroup_t*> dels;
    for (auto& g : a->groups) dels.push_back(rd_kafka_DeleteGroup_new(g.c_str()));
    auto options = make_admin_options(s->rk.get(), RD_KAFKA_ADMIN_OP_DELETEGROUPS, a->client);
    rd_kafka_DeleteGroups(s->rk.get(), dels.data(), dels.size(), options.get(), s->queue.get());
    rd_kafka_DeleteGroup_destroy_array(dels.data(), dels.size());
    std::string error;
    auto ev = wait_admin_result(s->queue.get(), a->client, error);
    if (!ev) return report_error(name, error);
    size_t n = 0;
    auto** res = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
      std::string g = rd_kafka_group_result_name(res[i]);
      if (const rd_kafka_error_t* e = rd_kafka_group_result_error(res[i])) {
        auto code = rd_kafka_error_code(e);
        if (code == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) report_error(name, "unknown group '" + g + "'");
        else if (code == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP)
          report_error(name, "group '" + g + "' has active members (NON_EMPTY_GROUP); stop its consumers first");
        else report_error(name, "group '" + g + "': " + describe_error(code, rd_kafka_error_string(e)));
        continue;
      }
      std::printf("deleted group %s\n", g.c_str());
    }
  });
}

// ---- reset-offsets --------------------------------------------------------------------------

void add_reset_offsets(CLI::App* group) {
  struct args_t {
    client_options client;
    std::string group;
    std::vector<std::string> topics;
    bool all_topics = false;
    bool to_earliest = false;
    bool to_latest = false;
    int64_t to_offset = -1;
    int64_t to_timestamp_ms = -1;
    bool execute = false;
    bool dry_run = false;
    bool json = false;
  };
  auto a = std::make_shared<args_t>();
  auto* cmd = group->add_subcommand(
      "reset-offsets", "Move a group's committed offsets (dry run unless --execute; the group must be empty)");
  cmd->add_option("group", a->group, "Group id")->required();
  cmd->add_option("-t,--topic", a->topics, "TOPIC or TOPIC:P[,P...] to reset (repeatable)");
  cmd->add_flag("--all-topics", a->all_topics, "Every topic the group has committed offsets for");
  cmd->add_flag("--to-earliest", a->to_earliest, "To each partition's log start offset");
  cmd->add_flag("--to-latest", a->to_latest, "To each partition's log end offset");
  cmd->add_option("--to-offset", a->to_offset, "To this offset (clamped to the log's range)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 62));
  cmd->add_option("--to-timestamp", a->to_timestamp_ms, "To the first offset whose timestamp (ms) is >= this")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 53));
  cmd->add_flag("--dry-run", a->dry_run, "Only show the new offsets (the default)");
  cmd->add_flag("--execute", a->execute, "Commit the new offsets");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "group reset-offsets";
    int targets = a->to_earliest + a->to_latest + (a->to_offset >= 0) + (a->to_timestamp_ms >= 0);
    if (targets != 1) {
      return report_error(name, "choose exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp", exit_usage);
    }
    if (a->execute && a->dry_run) return report_error(name, "--dry-run and --execute exclude each other", exit_usage);
    if (a->topics.empty() == !a->all_topics) return report_error(name, "give --topic (repeatable) or --all-topics", exit_usage);
    auto s = open_session(name, a->client, {8, 9, 10, 15});
    if (!s) return;
    bool failed = false;
    auto groups = describe_groups(name, *s, a->client, {a->group}, failed);
    if (failed) return;
    if (!groups.empty() && !groups[0].members.empty()) {
      return report_error(name, "group '" + a->group + "' has " + std::to_string(groups[0].members.size()) +
                                    " active member(s) (state " + groups[0].state +
                                    "); offsets can only be reset while the group is empty");
    }
    auto committed = committed_offsets(name, *s, a->client, a->group);
    if (!committed) return;
    // The partitions to reset.
    std::vector<std::pair<std::string, int32_t>> parts;
    if (a->all_topics) {
      for (auto& [tp, off] : *committed) parts.push_back(tp);
      if (parts.empty()) return report_error(name, "group '" + a->group + "' has no committed offsets; name topics with --topic");
    }
    for (auto& spec : a->topics) {
      auto colon = spec.find(':');
      std::string topic = spec.substr(0, colon);
      const rd_kafka_metadata_topic_t* tp = find_topic(s->md.get(), topic);
      if (!tp) return report_error(name, "unknown topic '" + topic + "'");
      if (colon == std::string::npos) {
        for (int i = 0; i < tp->partition_cnt; ++i) parts.emplace_back(topic, tp->partitions[i].id);
        continue;
      }
      std::string rest = spec.substr(colon + 1);
      size_t pos = 0;
      while (pos <= rest.size()) {
        size_t comma = rest.find(',', pos);
        std::string item = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || item.size() > 9) {
          return report_error(name, "--topic expects TOPIC or TOPIC:P[,P...], got '" + spec + "'", exit_usage);
        }
        int32_t p = std::stoi(item);
        if (p >= tp->partition_cnt) {
          return report_error(name, "partition " + item + " does not exist: topic '" + topic + "' has " +
                                        std::to_string(tp->partition_cnt) + " partition(s)");
        }
        parts.emplace_back(topic, p);
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    }
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
    // New offsets.
    partition_list_ptr target(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
    std::vector<int64_t> news;
    partition_list_ptr by_time;
    if (a->to_timestamp_ms >= 0) {
      by_time.reset(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
      for (auto& [t, p] : parts) rd_kafka_topic_partition_list_add(by_time.get(), t.c_str(), p)->offset = a->to_timestamp_ms;
      auto err = rd_kafka_offsets_for_times(s->rk.get(), by_time.get(), a->client.timeout_ms);
      if (err) return report_error(name, "offsets for timestamp: " + describe_error(err));
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      auto& [t, p] = parts[i];
      int64_t low = 0, high = 0;
      auto err = rd_kafka_query_watermark_offsets(s->rk.get(), t.c_str(), p, &low, &high, a->client.timeout_ms);
      if (err) return report_error(name, "offsets of " + t + "/" + std::to_string(p) + ": " + describe_error(err));
      int64_t n = 0;
      if (a->to_earliest) n = low;
      else if (a->to_latest) n = high;
      else if (a->to_offset >= 0) n = std::clamp(a->to_offset, low, high);
      else {
        const auto& e = by_time->elems[i];
        if (e.err) return report_error(name, "offset for timestamp in " + t + "/" + std::to_string(p) + ": " + describe_error(e.err));
        n = e.offset < 0 ? high : e.offset;
      }
      news.push_back(n);
      rd_kafka_topic_partition_list_add(target.get(), t.c_str(), p)->offset = n;
    }
    if (a->execute) {
      rd_kafka_AlterConsumerGroupOffsets_t* req = rd_kafka_AlterConsumerGroupOffsets_new(a->group.c_str(), target.get());
      auto options = make_admin_options(s->rk.get(), RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, a->client);
      rd_kafka_AlterConsumerGroupOffsets(s->rk.get(), &req, 1, options.get(), s->queue.get());
      rd_kafka_AlterConsumerGroupOffsets_destroy(req);
      std::string error;
      auto ev = wait_admin_result(s->queue.get(), a->client, error);
      if (!ev) return report_error(name, "commit offsets of group '" + a->group + "': " + error);
      size_t n = 0;
      auto** res = rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &n);
      for (size_t i = 0; i < n; ++i) {
        if (const rd_kafka_error_t* e = rd_kafka_group_result_error(res[i])) {
          return report_error(name, "commit offsets of group '" + a->group + "': " +
                                        describe_error(rd_kafka_error_code(e), rd_kafka_error_string(e)));
        }
        if (const auto* pl = rd_kafka_group_result_partitions(res[i])) {
          for (int j = 0; j < pl->cnt; ++j) {
            if (pl->elems[j].err) {
              return report_error(name, "commit offset of " + std::string(pl->elems[j].topic) + "/" +
                                            std::to_string(pl->elems[j].partition) + ": " + describe_error(pl->elems[j].err));
            }
          }
        }
      }
    }
    json out = json::array();
    table t({"TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"});
    for (size_t i = 0; i < parts.size(); ++i) {
      auto it = committed->find(parts[i]);
      int64_t cur = it == committed->end() ? -1 : it->second;
      out.push_back({{"topic", parts[i].first}, {"partition", parts[i].second},
                     {"current_offset", cur >= 0 ? json(cur) : json(nullptr)}, {"new_offset", news[i]}});
      t.add({parts[i].first, std::to_string(parts[i].second), cur >= 0 ? std::to_string(cur) : "-", std::to_string(news[i])});
    }
    if (a->json) {
      print_json({{"group", a->group}, {"executed", a->execute}, {"offsets", out}});
    } else {
      t.print();
      std::printf(a->execute ? "\ncommitted the new offsets of group %s\n"
                             : "\ndry run: nothing changed; add --execute to commit these offsets for group %s\n",
                  a->group.c_str());
    }
  });
}

}  // namespace

void add_group_commands(CLI::App& app) {
  auto* group = app.add_subcommand("group", "List, describe, delete consumer groups and reset their offsets");
  group->require_subcommand(1);
  add_list(group);
  add_describe(group);
  add_delete(group);
  add_reset_offsets(group);
}

}  // namespace sluice::cli
