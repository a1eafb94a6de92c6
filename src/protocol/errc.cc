#include "protocol/errc.h"

#include <string>

namespace sluice::protocol {

namespace {
class protocol_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "protocol"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::ok: return "ok";
      case errc::truncated: return "message truncated";
      case errc::negative_length: return "negative length or count";
      case errc::length_too_large: return "length exceeds the remaining bytes";
      case errc::count_too_large: return "array count exceeds what the remaining bytes can hold";
      case errc::bad_varint: return "malformed varint";
      case errc::null_not_allowed: return "null in a version where the field is not nullable";
      case errc::bad_tagged_field: return "malformed tagged field";
      case errc::unsupported_version: return "unsupported API version";
      case errc::unknown_api: return "unknown API key";
    }
    return "unknown protocol error";
  }
};
}  // namespace

const std::error_category& protocol_category() {
  static protocol_category_impl c;
  return c;
}

}  // namespace sluice::protocol
