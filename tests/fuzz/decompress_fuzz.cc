// libFuzzer target for model::decompress (untrusted records sections of compressed batches).
// First byte picks the codec (low 2 bits: gzip, snappy, lz4, zstd), the rest is the input;
// output bound 1 MiB. Findings: a crash, a sanitizer report, a hang, output beyond the bound,
// or a successful output that does not survive compress -> decompress unchanged.
// Built only with -DSLUICE_FUZZ=ON and clang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "model/compression.h"

namespace {
constexpr size_t max_output_bytes = 1024 * 1024;
constexpr sluice::model::compression codecs[] = {sluice::model::compression::gzip, sluice::model::compression::snappy,
                                                 sluice::model::compression::lz4, sluice::model::compression::zstd};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto codec = codecs[data[0] & 3];
  std::span<const uint8_t> in(data + 1, size - 1);
  auto out = sluice::model::decompress(codec, in, max_output_bytes);
  if (!out) return 0;
  if (out->size() > max_output_bytes) abort();
  auto again = sluice::model::compress(codec, *out);
  if (!again) abort();
  auto back = sluice::model::decompress(codec, *again, max_output_bytes);
  if (!back || *back != *out) abort();
  return 0;
}
