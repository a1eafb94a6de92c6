#include "cli/client.h"

#include <cstdio>
#include <iostream>

#include "cli/api_probe.h"
#include "cli/commands.h"
#include "protocol/api.h"

namespace sluice::cli {
namespace {

// librdkafka logs connection failures on its own threads; a command reports the failure once,
// in its own words, so these lines appear only with -v.
void quiet_log(const rd_kafka_t*, int level, const char* fac, const char* buf) {}
void verbose_log(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  std::fprintf(stderr, "librdkafka %d %s: %s\n", level, fac, buf);
}

bool set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value, std::string& error) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    error = "bad client property " + key + "=" + value + ": " + errstr;
    return false;
  }
  return true;
}

}  // namespace

void add_client_options(CLI::App* cmd, client_options& opts) {
  cmd->add_option("-b,--brokers", opts.brokers, "Bootstrap brokers, host:port[,host:port...]")
      ->capture_default_str();
  cmd->add_option("--timeout", opts.timeout_ms, "Milliseconds to wait for a broker's answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600 * 1000));
  cmd->add_option("-X,--property", opts.properties, "librdkafka client property key=value (repeatable)");
  cmd->add_flag("-v,--verbose", opts.verbose, "Show librdkafka's log lines on stderr");
}

void report_error(std::string_view command, std::string_view message, int code) {
  std::fflush(stdout);
  std::cerr << "sluice " << command << ": " << message << "\n";
  set_exit_code(code);
}

rd_kafka_conf_t* make_conf(const client_options& opts, const property_list& extra, std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, opts.verbose ? verbose_log : quiet_log);
  property_list all{{"bootstrap.servers", opts.brokers}};
  all.insert(all.end(), extra.begin(), extra.end());
  for (const auto& p : opts.properties) {
    std::string k, v;
    if (!split_key_value(p, k, v)) {
      error = "-X expects key=value, got '" + p + "'";
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
    all.emplace_back(k, v);
  }
  for (const auto& [k, v] : all) {
    if (!set_property(conf, k, v, error)) {
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  return conf;
}

rk_ptr make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf, std::string& error) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    error = std::string("cannot create client: ") + errstr;
    return nullptr;
  }
  return rk_ptr(rk);
}

rk_ptr make_client(rd_kafka_type_t type, const client_options& opts, const property_list& extra,
                   std::string& error) {
  rd_kafka_conf_t* conf = make_conf(opts, extra, error);
  if (!conf) return nullptr;
  return make_client(type, conf, error);
}

metadata_ptr fetch_metadata(rd_kafka_t* rk, const client_options& opts, std::string& error) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, opts.timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = "cannot reach broker(s) " + opts.brokers + " within " + std::to_string(opts.timeout_ms) +
            " ms (" + rd_kafka_err2str(err) + ")";
    return nullptr;
  }
  return metadata_ptr(md);
}

const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t* md, std::string_view name) {
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (name == t.topic && t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return &t;
  }
  return nullptr;
}

admin_options_ptr make_admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op, const client_options& opts) {
  admin_options_ptr o(rd_kafka_AdminOptions_new(rk, op));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(o.get(), opts.timeout_ms, errstr, sizeof errstr);
  // Only the topic operations take an operation timeout (they wait for the broker to finish).
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
      op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
    rd_kafka_AdminOptions_set_operation_timeout(o.get(), opts.timeout_ms, errstr, sizeof errstr);
  }
  return o;
}

event_ptr wait_admin_result(rd_kafka_queue_t* queue, const client_options& opts, std::string& error) {
  // The request timeout is enforced by librdkafka; the extra second covers its bookkeeping.
  event_ptr ev(rd_kafka_queue_poll(queue, opts.timeout_ms + 1000));
  if (!ev) {
    error = "no answer from " + opts.brokers + " within " + std::to_string(opts.timeout_ms) + " ms";
    return nullptr;
  }
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = describe_error(rd_kafka_event_error(ev.get()), rd_kafka_event_error_string(ev.get()));
    return nullptr;
  }
  return ev;
}

std::string describe_error(rd_kafka_resp_err_t err, const char* message) {
  std::string out = rd_kafka_err2name(err);
  std::string text = message && *message ? message : rd_kafka_err2str(err);
  out += " (" + text + ")";
  return out;
}

partition_reader::partition_reader(rd_kafka_t* rk, const std::string& topic)
    : _rkt(rd_kafka_topic_new(rk, topic.c_str(), nullptr)), _queue(rd_kafka_queue_new(rk)) {}

partition_reader::~partition_reader() {
  for (int32_t p : _started) rd_kafka_consume_stop(_rkt, p);
  rd_kafka_queue_destroy(_queue);
  rd_kafka_topic_destroy(_rkt);
}

rd_kafka_resp_err_t partition_reader::start(int32_t partition, int64_t offset) {
  if (rd_kafka_consume_start_queue(_rkt, partition, offset, _queue) != 0) return rd_kafka_last_error();
  _started.push_back(partition);
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_message_t* partition_reader::poll(int timeout_ms) { return rd_kafka_consume_queue(_queue, timeout_ms); }

bool require_apis(const rd_kafka_metadata_t* md, const client_options& opts, const std::vector<int16_t>& keys,
                  std::string& error) {
  if (md->broker_cnt == 0) {
    error = "the cluster lists no brokers";
    return false;
  }
  const auto& b = md->brokers[0];
  std::vector<api_range> apis;
  std::string probe_error;
  if (!probe_api_versions(b.host, b.port, opts.timeout_ms, apis, probe_error)) {
    error = "ApiVersions of broker " + std::to_string(b.id) + ": " + probe_error;
    return false;
  }
  std::string missing;
  for (int16_t k : keys) {
    if (max_version_of(apis, k) >= 0) continue;
    const auto* info = protocol::find_api(k);
    missing += (missing.empty() ? "" : ", ") + std::string(info ? info->name : std::to_string(k));
  }
  if (!missing.empty()) {
    error = "broker " + std::to_string(b.id) + " (" + b.host + ":" + std::to_string(b.port) +
            ") does not support " + missing + " (not in its ApiVersions)";
    return false;
  }
  return true;
}

bool split_key_value(std::string_view text, std::string& key, std::string& value) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  key = std::string(text.substr(0, eq));
  value = std::string(text.substr(eq + 1));
  return true;
}

std::unique_ptr<session> open_session(std::string_view command, const client_options& opts,
                                      const std::vector<int16_t>& needed_apis) {
  std::string error;
  auto s = std::make_unique<session>();
  s->rk = make_client(RD_KAFKA_PRODUCER, opts, {}, error);
  if (s->rk) s->md = fetch_metadata(s->rk.get(), opts, error);
  if (!s->md || !require_apis(s->md.get(), opts, needed_apis, error)) {
    report_error(command, error);
    return nullptr;
  }
  s->queue.reset(rd_kafka_queue_new(s->rk.get()));
  return s;
}

}  // namespace sluice::cli
