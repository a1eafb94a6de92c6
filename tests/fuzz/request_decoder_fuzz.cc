// libFuzzer target for the request decoder: bytes -> request header -> the body decoder of that
// API and version (and, to cover the response codecs too, the same bytes as that API's
// response body). Whatever decodes must re-encode and decode back to an equal value, and
// re-encoding must be stable. Any crash, sanitizer report or abort() is a finding.
// Built only with -DSLUICE_FUZZ=ON and clang; run by scripts/run-tests (bounded time).
#include <cstdint>
#include <cstdlib>
#include <span>

#include "protocol/headers.h"
#include "protocol/messages.h"

namespace {

using namespace sluice::protocol;

template <typename Msg>
void check(std::span<const uint8_t> body, int16_t version) {
  reader r(body);
  Msg m;
  if (!m.decode(r, version).has_value()) return;
  writer w;
  m.encode(w, version);
  auto bytes = w.flatten();
  if (bytes.size() != w.size()) abort();
  reader r2{std::span<const uint8_t>(bytes)};
  Msg m2;
  if (!m2.decode(r2, version).has_value()) abort();  // our own encoding must decode
  if (r2.remaining() != 0) abort();
  if (!(m2 == m)) abort();  // decode(encode(x)) == x
  writer w2;
  m2.encode(w2, version);
  if (w2.flatten() != bytes) abort();  // encoding is a function of the value
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  reader r(in);
  auto h = decode_request_header(r);
  if (!h.has_value()) return 0;
  // The header must also survive a round trip at its version.
  {
    writer w;
    h->encode(w, request_header_version(h->api_key, h->api_version));
    auto bytes = w.flatten();
    reader r2{std::span<const uint8_t>(bytes)};
    auto h2 = decode_request_header(r2);
    if (!h2.has_value() || !(*h2 == *h) || r2.remaining() != 0) abort();
  }
  auto body = in.subspan(r.position());
  visit_api(h->api_key, [&](auto api) {
    using A = decltype(api);
    // Out-of-range versions must be rejected cleanly, so try them too.
    check<typename A::request>(body, h->api_version);
    check<typename A::response>(body, h->api_version);
  });
  return 0;
}
