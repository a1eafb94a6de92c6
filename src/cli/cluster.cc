// `sluice cluster info`: brokers, controller, cluster id and, per broker, the Kafka APIs and
// versions it advertises (what the broker's version means to a client).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/api_probe.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "protocol/api.h"

namespace sluice::cli {

void add_cluster_commands(CLI::App& app) {
  auto* cluster = app.add_subcommand("cluster", "Inspect the cluster");
  cluster->require_subcommand(1);
  struct args_t {
    client_options client;
    bool json = false;
    bool api_versions = false;
  };
  auto a = std::make_shared<args_t>();
  auto* info = cluster->add_subcommand("info", "Brokers, controller, cluster id and supported API versions");
  info->add_flag("--json", a->json, "Print one JSON document");
  info->add_flag("--api-versions", a->api_versions, "List every API and version range each broker advertises");
  add_client_options(info, a->client);
  info->callback([a] {
    const char* name = "cluster info";
    using json = nlohmann::ordered_json;
    std::string error;
    rk_ptr rk = make_client(RD_KAFKA_PRODUCER, a->client, {}, error);
    if (!rk) return report_error(name, error, exit_usage);
    metadata_ptr md = fetch_metadata(rk.get(), a->client, error);
    if (!md) return report_error(name, error);
    char* cid = rd_kafka_clusterid(rk.get(), a->client.timeout_ms);
    std::string cluster_id = cid ? cid : "";
    if (cid) rd_kafka_mem_free(rk.get(), cid);
    int32_t controller = rd_kafka_controllerid(rk.get(), a->client.timeout_ms);
    std::vector<const rd_kafka_metadata_broker_t*> brokers;
    for (int i = 0; i < md->broker_cnt; ++i) brokers.push_back(&md->brokers[i]);
    std::sort(brokers.begin(), brokers.end(), [](auto* x, auto* y) { return x->id < y->id; });

    json jbrokers = json::array();
    table bt({"ID", "HOST", "PORT", "CONTROLLER", "APIS"});
    std::vector<std::pair<int32_t, std::vector<api_range>>> per_broker;
    for (auto* b : brokers) {
      std::vector<api_range> apis;
      std::string probe_error;
      bool probed = probe_api_versions(b->host, b->port, a->client.timeout_ms, apis, probe_error);
      json japis = json::array();
      for (auto& r : apis) {
        const auto* info = protocol::find_api(r.key);
        japis.push_back({{"key", r.key}, {"name", info ? info->name : "unknown"}, {"min_version", r.min_version},
                         {"max_version", r.max_version}});
      }
      json jb = {{"id", b->id}, {"host", b->host}, {"port", b->port}, {"controller", b->id == controller}};
      if (probed) jb["api_versions"] = japis;
      else jb["api_versions_error"] = probe_error;
      jbrokers.push_back(jb);
      bt.add({std::to_string(b->id), b->host, std::to_string(b->port), b->id == controller ? "yes" : "no",
              probed ? std::to_string(apis.size()) + " APIs" : "unknown: " + probe_error});
      per_broker.emplace_back(b->id, std::move(apis));
    }
    if (a->json) {
      print_json({{"cluster_id", cluster_id.empty() ? json(nullptr) : json(cluster_id)},
                  {"controller", controller},
                  {"brokers", jbrokers},
                  {"topics", md->topic_cnt},
                  {"cli_version", SLUICE_CLI_VERSION}});
      return;
    }
    std::printf("CLUSTER\n");
    std::printf("cluster id:  %s\n", cluster_id.empty() ? "(none)" : cluster_id.c_str());
    std::printf("controller:  %d\n", controller);
    std::printf("topics:      %d\n", md->topic_cnt);
    std::printf("cli version: sluice %s\n\nBROKERS\n", SLUICE_CLI_VERSION);
    bt.print();
    if (a->api_versions) {
      for (auto& [id, apis] : per_broker) {
        std::printf("\nAPI VERSIONS of broker %d\n", id);
        table at({"KEY", "API", "VERSIONS"});
        for (auto& r : apis) {
          const auto* info = protocol::find_api(r.key);
          at.add({std::to_string(r.key), info ? info->name : "unknown",
                  std::to_string(r.min_version) + "-" + std::to_string(r.max_version)});
        }
        at.print();
      }
    }
  });
}

}  // namespace sluice::cli
