#pragma once
// Decode failures of the protocol codec. These are *our* errors (malformed bytes); Kafka error
// codes sent in responses live in error_code.h.
#include <system_error>

namespace sluice::protocol {

enum class errc {
  ok = 0,
  truncated,            // a read ran past the end of the input
  negative_length,      // a length/count below -1 (or -1 where null is not allowed)
  length_too_large,     // a string/bytes/records length beyond the remaining input
  count_too_large,      // an array count that cannot fit in the remaining input
  bad_varint,           // an unsigned varint longer than its type allows
  null_not_allowed,     // null encoding in a version where the field is not nullable
  bad_tagged_field,     // a known tagged field whose payload did not decode to its exact size
  unsupported_version,  // decode() called with a version outside the API's range
  unknown_api,          // api_key not in the table
};

const std::error_category& protocol_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), protocol_category()}; }

}  // namespace sluice::protocol

template <>
struct std::is_error_code_enum<sluice::protocol::errc> : std::true_type {};
