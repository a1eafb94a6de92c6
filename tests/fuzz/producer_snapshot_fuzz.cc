// libFuzzer target for producer-state snapshot files (storage/producer_state.h, format in
// docs/format/producer-snapshot.md): read from disk at start-up, where a torn or corrupted file
// must be rejected (and the snapshot skipped), never crash the broker. Findings: a crash, a
// sanitizer report, a hang, or an accepted snapshot that does not survive encode → decode.
// The first input byte picks how the rest is fed: odd = with the header's version, entry count
// (from the length) and CRC-32C made valid, so the fuzzer reaches the entry checks (layout:
// docs/format/producer-snapshot.md: version int16, crc uint32 over the rest, count int32, 46-byte
// entries); even = as is.
// Built only with -DSLUICE_FUZZ=ON and clang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "base/crc32c.h"
#include "base/endian.h"
#include "storage/producer_state.h"

using sluice::storage::producer_state_manager;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<uint8_t> file(data + 1, data + size);
  if ((data[0] & 1) && file.size() >= 10) {
    file.resize(10 + (file.size() - 10) / 46 * 46);
    sluice::store_be<int16_t>(file.data(), 1);
    sluice::store_be<int32_t>(file.data() + 6, static_cast<int32_t>((file.size() - 10) / 46));
    sluice::store_be<uint32_t>(file.data() + 2, sluice::crc32c(file.data() + 6, file.size() - 6));
  }
  auto decoded = producer_state_manager::decode_snapshot(file);
  if (!decoded) return 0;
  auto bytes = producer_state_manager::encode_snapshot(*decoded);
  auto again = producer_state_manager::decode_snapshot(bytes);
  if (!again || again->size() != decoded->size()) abort();
  for (const auto& [id, e] : *decoded) {
    auto it = again->find(id);
    if (it == again->end()) abort();
    const auto& f = it->second;
    if (f.producer_id != e.producer_id || f.epoch != e.epoch || f.last_timestamp != e.last_timestamp ||
        f.coordinator_epoch != e.coordinator_epoch || f.last_seq() != e.last_seq() ||
        f.last_offset() != e.last_offset())
      abort();
  }
  return 0;
}
