#include "protocol/headers.h"

#include "protocol/api.h"

namespace sluice::protocol {

namespace {

void read_tags(reader& r, tagged_fields& out) {
  uint32_t n = r.read_tag_count();
  int64_t previous = -1;
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    uint32_t tag = r.read_uvarint32();
    uint32_t size = r.read_uvarint32();
    if (!r.check_tag_order(tag, previous)) break;
    r.read_unknown_tag(out, tag, size);
  }
}

}  // namespace

void request_header::encode(writer& w, int16_t header_version) const {
  w.write_int16(api_key);
  w.write_int16(api_version);
  w.write_int32(correlation_id);
  if (header_version >= 1) w.write_nullable_string(client_id, false, true);
  if (header_version >= 2) w.write_tags(unknown_tags);
}

result<void> request_header::decode(reader& r, int16_t header_version) {
  *this = {};
  api_key = r.read_int16();
  api_version = r.read_int16();
  correlation_id = r.read_int32();
  if (header_version >= 1) r.read_nullable_string(client_id, false, true);
  if (header_version >= 2) read_tags(r, unknown_tags);
  return r.status();
}

result<request_header> decode_request_header(reader& r) {
  request_header h;
  h.api_key = r.read_int16();
  h.api_version = r.read_int16();
  h.correlation_id = r.read_int32();
  int16_t hv = request_header_version(h.api_key, h.api_version);
  if (hv >= 1) r.read_nullable_string(h.client_id, false, true);
  if (hv >= 2) read_tags(r, h.unknown_tags);
  if (!r.ok()) return make_error_code(r.error());
  return h;
}

void response_header::encode(writer& w, int16_t header_version) const {
  w.write_int32(correlation_id);
  if (header_version >= 1) w.write_tags(unknown_tags);
}

result<void> response_header::decode(reader& r, int16_t header_version) {
  *this = {};
  correlation_id = r.read_int32();
  if (header_version >= 1) read_tags(r, unknown_tags);
  return r.status();
}

}  // namespace sluice::protocol
