// mock_cluster: runs librdkafka's built-in mock Kafka cluster (rdkafka_mock.h) on loopback.
//
// Usage: mock_cluster [--brokers N] [topic[:partitions] ...]
//   Prints "bootstrap=<host:port,...>" on stdout once the cluster is up, then serves until
//   SIGTERM/SIGINT. Commands on stdin, one per line (answered "ok" or "error <reason>"):
//     create <topic> <partitions>
// Used by the client integration tests (SLUICE_TEST_TARGET=mock) to validate the test clients
// without a Sluice broker, and as a reference server for `make bench`.
// Limits of the mock (librdkafka 2.0.2): no CreateTopics/admin APIs, data kept in memory only.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

bool create_topic(rd_kafka_mock_cluster_t* cluster, const std::string& name, int partitions, std::string& why) {
  if (name.empty() || partitions <= 0) {
    why = "bad topic or partition count";
    return false;
  }
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    why = rd_kafka_err2str(err);
    return false;
  }
  return true;
}

// Parses "topic[:partitions]".
bool create_from_arg(rd_kafka_mock_cluster_t* cluster, const char* arg) {
  std::string spec(arg);
  int partitions = 1;
  auto colon = spec.rfind(':');
  if (colon != std::string::npos) {
    partitions = std::atoi(spec.c_str() + colon + 1);
    spec.resize(colon);
  }
  std::string why;
  if (!create_topic(cluster, spec, partitions, why)) {
    std::fprintf(stderr, "mock_cluster: cannot create topic %s: %s\n", arg, why.c_str());
    return false;
  }
  return true;
}

void handle_command(rd_kafka_mock_cluster_t* cluster, const std::string& line) {
  char verb[32] = {0};
  char topic[256] = {0};
  int partitions = 0;
  std::string why;
  if (std::sscanf(line.c_str(), "%31s %255s %d", verb, topic, &partitions) == 3 &&
      std::strcmp(verb, "create") == 0) {
    if (create_topic(cluster, topic, partitions, why)) {
      std::printf("ok\n");
    } else {
      std::printf("error %s\n", why.c_str());
    }
  } else if (!line.empty()) {
    std::printf("error unknown command\n");
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  int first_topic = 1;
  if (argc >= 3 && std::strcmp(argv[1], "--brokers") == 0) {
    brokers = std::atoi(argv[2]);
    first_topic = 3;
  }
  if (brokers <= 0) {
    std::fprintf(stderr, "usage: mock_cluster [--brokers N] [topic[:partitions] ...]\n");
    return 2;
  }

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only does the mock's bookkeeping; it never connects anywhere.
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (!cluster) {
    std::fprintf(stderr, "mock_cluster: rd_kafka_mock_cluster_new failed\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  for (int i = first_topic; i < argc; ++i) {
    if (!create_from_arg(cluster, argv[i])) {
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);
  std::fprintf(stderr, "mock_cluster started with %d broker(s)\n", brokers);

  bool stdin_open = true;
  std::string pending;
  while (!g_stop) {
    if (!stdin_open) {
      pause();  // woken by the signal
      continue;
    }
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    int n = poll(&pfd, 1, 200);
    if (n <= 0) continue;
    char buf[1024];
    ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
    if (got <= 0) {
      stdin_open = false;  // keep serving; only a signal stops us
      continue;
    }
    pending.append(buf, static_cast<size_t>(got));
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      handle_command(cluster, pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
