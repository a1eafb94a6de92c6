// `sluice produce TOPIC`: one record per stdin line (the newline is not part of the record).
// Keys follow Java's default partitioner (librdkafka's murmur2_random: murmur2 for keyed
// records, like Kafka's Java client), so a key lands where a Java producer would put it.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/commands.h"

namespace sluice::cli {
namespace {

struct delivery_state {
  int64_t delivered = 0;
  int64_t failed = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<delivery_state*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++st->delivered;
  } else {
    if (st->failed++ == 0) st->first_error = describe_error(m->err);
  }
}

struct args_t {
  client_options client;
  std::string topic;
  std::string key_separator;
  std::vector<std::string> headers;
  int32_t partition = -1;
  std::string acks = "all";
  std::string compression = "none";
  int32_t linger_ms = 5;
  int32_t max_message_bytes = 1000000;
};

}  // namespace

void add_produce_command(CLI::App& app) {
  auto a = std::make_shared<args_t>();
  auto* cmd = app.add_subcommand("produce", "Produce records from stdin, one per line");
  cmd->add_option("topic", a->topic, "Topic to write to")->required();
  cmd->add_option("-k,--key-separator", a->key_separator,
                  "Split each line at the first SEP into key and value (no SEP in a line: no key)");
  cmd->add_option("-H,--header", a->headers, "Header key=value added to every record (repeatable)");
  cmd->add_option("-p,--partition", a->partition, "Write every record to this partition")
      ->check(CLI::Range(0, (1 << 20) - 1));
  cmd->add_option("-a,--acks", a->acks, "Acknowledgements: 0, 1, all (-1)")
      ->capture_default_str()
      ->check(CLI::IsMember({"0", "1", "all", "-1"}));
  cmd->add_option("-z,--compression", a->compression, "Compression codec")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  cmd->add_option("--linger-ms", a->linger_ms, "Batch records for up to this many ms")
      ->capture_default_str()
      ->check(CLI::Range(0, 900000));
  cmd->add_option("--max-message-bytes", a->max_message_bytes, "Largest record this producer sends")
      ->capture_default_str()
      ->check(CLI::Range(1000, 1000000000));
  add_client_options(cmd, a->client);
  cmd->callback([a] {
    const char* name = "produce";
    std::ios::sync_with_stdio(false);  // stdin is read only through std::cin
    std::vector<std::pair<std::string, std::string>> headers;
    for (auto& h : a->headers) {
      std::string k, v;
      if (!split_key_value(h, k, v)) return report_error(name, "--header expects key=value, got '" + h + "'", exit_usage);
      headers.emplace_back(k, v);
    }
    delivery_state st;
    std::string error;
    property_list props{{"acks", a->acks},
                        {"compression.codec", a->compression},
                        {"linger.ms", std::to_string(a->linger_ms)},
                        {"message.max.bytes", std::to_string(a->max_message_bytes)},
                        {"partitioner", "murmur2_random"},
                        {"message.timeout.ms", std::to_string(a->client.timeout_ms)}};
    rd_kafka_conf_t* conf = make_conf(a->client, props, error);
    if (!conf) return report_error(name, error, exit_usage);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rk_ptr rk = make_client(RD_KAFKA_PRODUCER, conf, error);
    if (!rk) return report_error(name, error);
    metadata_ptr md = fetch_metadata(rk.get(), a->client, error);
    if (!md) return report_error(name, error);
    const rd_kafka_metadata_topic_t* tp = find_topic(md.get(), a->topic);
    if (!tp) return report_error(name, "unknown topic '" + a->topic + "' (create it with: sluice topic create " + a->topic + ")");
    if (a->partition >= tp->partition_cnt) {
      return report_error(name, "partition " + std::to_string(a->partition) + " does not exist: topic '" + a->topic +
                                    "' has " + std::to_string(tp->partition_cnt) + " partition(s)");
    }
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (auto& [k, v] : headers) rd_kafka_header_add(hdrs, k.data(), k.size(), v.data(), v.size());
    }
    std::string line;
    int64_t sent = 0;
    while (std::getline(std::cin, line)) {
      const char* key = nullptr;
      size_t key_len = 0;
      const char* value = line.data();
      size_t value_len = line.size();
      if (!a->key_separator.empty()) {
        auto pos = line.find(a->key_separator);
        if (pos != std::string::npos) {
          key = line.data();
          key_len = pos;
          value = line.data() + pos + a->key_separator.size();
          value_len = line.size() - pos - a->key_separator.size();
        }
      }
      for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk.get(), RD_KAFKA_V_TOPIC(a->topic.c_str()), RD_KAFKA_V_PARTITION(a->partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_VALUE(const_cast<char*>(value), value_len),
            RD_KAFKA_V_HEADERS(hdrs ? rd_kafka_headers_copy(hdrs) : nullptr), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(rk.get(), 100);
          continue;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          if (hdrs) rd_kafka_headers_destroy(hdrs);
          return report_error(name, "record " + std::to_string(sent + 1) + ": " + describe_error(err));
        }
        break;
      }
      ++sent;
      rd_kafka_poll(rk.get(), 0);
    }
    if (hdrs) rd_kafka_headers_destroy(hdrs);
    // Delivery is bounded by message.timeout.ms (= --timeout); the flush waits a little longer.
    rd_kafka_flush(rk.get(), a->client.timeout_ms + 5000);
    rd_kafka_poll(rk.get(), 0);
    int64_t undelivered = sent - st.delivered;
    if (st.failed > 0 || undelivered > 0) {
      std::string why = st.failed > 0 ? st.first_error : "no acknowledgement within the timeout";
      return report_error(name, std::to_string(undelivered) + " of " + std::to_string(sent) +
                                    " record(s) not delivered to '" + a->topic + "': " + why);
    }
    std::fprintf(stderr, "produced %lld record(s) to %s\n", static_cast<long long>(sent), a->topic.c_str());
  });
}

}  // namespace sluice::cli
