#pragma once
// A blocking Kafka protocol connection for what librdkafka 2.0.2 has no API for: the version
// ranges a broker advertises (ApiVersions) and the transaction tools (FindCoordinator with the
// transaction key type, DescribeTransactions, ListTransactions, DescribeProducers). Requests and
// responses are the generated messages (protocol/messages/*.h); every wait is bounded by the
// connection's timeout. One thread uses a connection.
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/api.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace sluice::cli {

class raw_connection {
 public:
  raw_connection() = default;
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  // Connects to host:port; every later call must finish within timeout_ms of its start.
  // false and `error` on failure.
  bool connect(const std::string& host, int port, int timeout_ms, std::string& error);

  // Sends `req` as version `version` of Api and decodes the answer into `resp`. false and
  // `error` on a network failure, a response that does not decode, or a version the caller's
  // schema does not have.
  template <typename Api>
  bool call(const typename Api::request& req, int16_t version, typename Api::response& resp, std::string& error) {
    if (version < Api::min_version || version > Api::max_version) {
      error = std::string(Api::name) + " v" + std::to_string(version) + " is not supported";
      return false;
    }
    protocol::writer body;
    req.encode(body, version);
    std::vector<uint8_t> answer;
    if (!roundtrip(Api::key, version, body, answer, error)) return false;
    protocol::reader r(std::span<const uint8_t>(answer.data(), answer.size()));
    if (!resp.decode(r, version) || !r.ok()) {
      error = std::string("malformed ") + Api::name + " v" + std::to_string(version) + " response";
      return false;
    }
    return true;
  }

 private:
  // Frames header + body, sends it, reads one response and strips its header.
  bool roundtrip(int16_t key, int16_t version, protocol::writer& body, std::vector<uint8_t>& response,
                 std::string& error);

  int _fd = -1;
  int _timeout_ms = 0;
  int32_t _next_correlation_id = 1;
};

}  // namespace sluice::cli
