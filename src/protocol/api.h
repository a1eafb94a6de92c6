#pragma once
// The table of APIs this codec implements (generated from schemas/ into api_table.cc) and the
// header-version rules. Which of them the broker *advertises* is the server's decision.
#include <cstdint>
#include <limits>
#include <span>

namespace sluice::protocol {

// first_flexible of an API that has no flexible version in our range or beyond (e.g. SaslHandshake).
inline constexpr int16_t never_flexible = std::numeric_limits<int16_t>::max();

struct api_info {
  int16_t key;
  const char* name;
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible;  // never_flexible if none
  bool is_flexible(int16_t version) const { return version >= first_flexible; }
  bool supports(int16_t version) const { return version >= min_version && version <= max_version; }
};

inline constexpr int16_t api_versions_key = 18;

// Sorted by key.
std::span<const api_info> all_apis();
// nullptr if the key is unknown.
const api_info* find_api(int16_t key);

// Request header: v2 for flexible versions, else v1 (v0 is only ControlledShutdown v0, which we
// do not implement). The version need not be in our range: a version above max is treated like
// the API's latest flexibility, so an unsupported-version request can still be parsed far enough
// to answer it. Unknown keys: v1.
int16_t request_header_version(int16_t api_key, int16_t api_version);
// Response header: v1 for flexible versions, else v0; ApiVersions responses always use v0
// (KIP-511), so a client can read the error code whatever version it sent.
int16_t response_header_version(int16_t api_key, int16_t api_version);

}  // namespace sluice::protocol
