// ApiVersions (key 18): the APIs and version ranges this broker implements.
#include "server/handlers/handlers.h"

namespace sluice::server {
namespace {
// Kafka's rule for ClientSoftwareName/Version (ApiVersionsRequest.isValid).
bool valid_software_field(const std::string& s) {
  if (s.empty()) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-' && c != '.') return false;
  return true;
}
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::api_versions_request& req,
                             protocol::api_versions_response& resp) {
  if (ctx.version() >= 3 &&
      (!valid_software_field(req.client_software_name) || !valid_software_field(req.client_software_version))) {
    resp = api_versions_body(code(protocol::error_code::invalid_request));
    co_return;
  }
  resp = api_versions_body(code(protocol::error_code::none));
  co_return;
}

}  // namespace sluice::server
