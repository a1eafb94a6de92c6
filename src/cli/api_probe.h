#pragma once
// Asks one broker which API versions it supports (ApiVersions v0 over a plain TCP connection).
// librdkafka negotiates these internally but does not expose them; `sluice cluster info` shows
// them the way kafka-broker-api-versions.sh does.
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::cli {

struct api_range {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
};

// Connects to host:port, sends ApiVersions v0, reads the answer; everything bounded by
// timeout_ms. Returns false and sets `error` on any failure.
bool probe_api_versions(const std::string& host, int port, int timeout_ms, std::vector<api_range>& out,
                        std::string& error);

// The highest version of API `key` in `apis`, -1 when it is not there.
int16_t max_version_of(const std::vector<api_range>& apis, int16_t key);

}  // namespace sluice::cli
