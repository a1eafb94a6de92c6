#include "cli/api_probe.h"

#include "cli/raw_client.h"
#include "protocol/messages/api_versions.h"

namespace sluice::cli {

bool probe_api_versions(const std::string& host, int port, int timeout_ms, std::vector<api_range>& out,
                        std::string& error) {
  raw_connection conn;
  if (!conn.connect(host, port, timeout_ms, error)) return false;
  protocol::api_versions_request req;
  protocol::api_versions_response resp;
  if (!conn.call<protocol::api_versions_api>(req, 0, resp, error)) return false;
  if (resp.error_code != 0) {
    error = "ApiVersions error code " + std::to_string(resp.error_code);
    return false;
  }
  out.clear();
  for (const auto& k : resp.api_keys) out.push_back({k.api_key, k.min_version, k.max_version});
  return true;
}

int16_t max_version_of(const std::vector<api_range>& apis, int16_t key) {
  for (const auto& r : apis)
    if (r.key == key) return r.max_version;
  return -1;
}

}  // namespace sluice::cli
