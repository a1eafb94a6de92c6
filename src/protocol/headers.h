#pragma once
// Request header v0-2 and response header v0-1.
//   request  v0: api_key int16, api_version int16, correlation_id int32
//            v1: + client_id NULLABLE_STRING (classic int16 length, also in v2)
//            v2: + tagged fields
//   response v0: correlation_id int32;  v1: + tagged fields
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "protocol/reader.h"
#include "protocol/tagged_fields.h"
#include "protocol/writer.h"

namespace sluice::protocol {

struct request_header {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  tagged_fields unknown_tags;

  void encode(writer& w, int16_t header_version) const;
  result<void> decode(reader& r, int16_t header_version);
  bool operator==(const request_header&) const = default;
};

// Reads api_key and api_version, picks the header version from the API table
// (request_header_version), then reads the rest. On failure the reader holds the error.
result<request_header> decode_request_header(reader& r);

struct response_header {
  int32_t correlation_id = 0;
  tagged_fields unknown_tags;

  void encode(writer& w, int16_t header_version) const;
  result<void> decode(reader& r, int16_t header_version);
  bool operator==(const response_header&) const = default;
};

}  // namespace sluice::protocol
