// libFuzzer target for model::upconvert_message_set (untrusted Produce v0-v2 message sets).
// Produce version 2 (magic 0 and 1), batch and decompression bounds 1 MiB. The first input
// byte picks how the rest is fed, so the fuzzer also gets past the CRC-32 checks:
//   low 2 bits 0 or 3: the rest as is;
//              1: the rest with every complete outer message's CRC recomputed;
//              2: the rest as an inner set (CRCs recomputed), compressed with gzip/snappy/lz4
//                 (bits 2-3) into one magic 0/1 (bit 4) wrapper with a valid CRC.
// Findings: a crash, a sanitizer report, a hang, or a successful result that is larger than
// the bound or is not a valid RecordBatch v2 (validate_batch, and validate_compressed_batch).
// Built only with -DSLUICE_FUZZ=ON and clang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "base/crc32c.h"
#include "base/endian.h"
#include "model/compression.h"
#include "model/legacy_records.h"
#include "model/record_batch.h"
#include "model/recompress.h"

namespace {
constexpr size_t bound_bytes = 1024 * 1024;

// Recomputes the CRC of every complete [offset][size][message] entry with size >= 5.
void fix_crcs(std::vector<uint8_t>& set) {
  size_t pos = 0;
  while (set.size() - pos >= 12) {
    int32_t n = sluice::load_be<int32_t>(set.data() + pos + 8);
    pos += 12;
    if (n < 5 || static_cast<size_t>(n) > set.size() - pos) return;
    sluice::store_be<uint32_t>(set.data() + pos, sluice::crc32_ieee(set.data() + pos + 4, static_cast<size_t>(n) - 4));
    pos += static_cast<size_t>(n);
  }
}

std::vector<uint8_t> wrap(std::vector<uint8_t> inner, uint8_t mode) {
  fix_crcs(inner);
  auto codec = static_cast<sluice::model::compression>(1 + ((mode >> 2) & 3) % 3);
  auto packed = sluice::model::compress(codec, inner);
  if (!packed) abort();
  uint8_t magic = (mode >> 4) & 1;
  std::vector<uint8_t> m(4, 0);
  m.push_back(magic);
  m.push_back(static_cast<uint8_t>(codec));
  if (magic == 1) m.insert(m.end(), 8, 0);  // timestamp 0
  m.insert(m.end(), 4, 0xff);                // null key
  uint8_t len[4];
  sluice::store_be<int32_t>(len, static_cast<int32_t>(packed->size()));
  m.insert(m.end(), len, len + 4);
  m.insert(m.end(), packed->begin(), packed->end());
  sluice::store_be<uint32_t>(m.data(), sluice::crc32_ieee(m.data() + 4, m.size() - 4));
  std::vector<uint8_t> set(12, 0);
  sluice::store_be<int32_t>(set.data() + 8, static_cast<int32_t>(m.size()));
  set.insert(set.end(), m.begin(), m.end());
  return set;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > bound_bytes) return 0;
  uint8_t mode = data[0];
  std::vector<uint8_t> set(data + 1, data + size);
  if ((mode & 3) == 1) fix_crcs(set);
  if ((mode & 3) == 2) set = wrap(std::move(set), mode);
  auto out = sluice::model::upconvert_message_set(set, 2, 1'700'000'000'000, bound_bytes, bound_bytes);
  if (!out) return 0;
  if (out->size() > bound_bytes) abort();
  if (!sluice::model::validate_batch(*out)) abort();
  if (!sluice::model::validate_compressed_batch(*out, bound_bytes)) abort();
  return 0;
}
