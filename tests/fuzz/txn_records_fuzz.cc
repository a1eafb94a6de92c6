// libFuzzer target for the transaction records a broker reads from untrusted bytes: the
// COMMIT/ABORT marker inside a control batch (model/control_record.h; from followers' fetches and
// recovered logs) and `.txnindex` files (storage/txn_index.h, docs/format/txnindex.md; read at
// start-up, where a torn or corrupted file must be rejected and rebuilt, never crash the broker).
// Findings: a crash, a sanitizer report, a hang, or an accepted input that does not survive
// encode -> decode.
// The first input byte picks the decoder: even = a control batch whose records are the rest of
// the input (behind a header with the control attribute and one record), odd = a .txnindex file.
// Built only with -DSLUICE_FUZZ=ON and clang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "base/endian.h"
#include "model/control_record.h"
#include "model/record_batch.h"
#include "storage/txn_index.h"

namespace {

void fuzz_marker(std::span<const uint8_t> records) {
  namespace layout = sluice::model::batch_layout;
  std::vector<uint8_t> batch(layout::header_size);
  sluice::store_be<int16_t>(batch.data() + layout::attributes,
                            sluice::model::batch_attr::control | sluice::model::batch_attr::transactional);
  sluice::store_be<int32_t>(batch.data() + layout::records_count, 1);
  batch.insert(batch.end(), records.begin(), records.end());
  auto marker = sluice::model::parse_txn_marker(sluice::model::batch_view(batch));
  if (!marker) return;
  auto rebuilt = sluice::model::build_txn_marker_batch(7, 3, *marker, 0);
  auto again = sluice::model::parse_txn_marker(sluice::model::batch_view(rebuilt));
  if (!again || again->type != marker->type || again->coordinator_epoch != marker->coordinator_epoch) abort();
}

void fuzz_txn_index(std::span<const uint8_t> file) {
  using sluice::storage::txn_index;
  auto entries = txn_index::decode(file);
  if (!entries) return;
  std::vector<uint8_t> bytes(entries->size() * txn_index::entry_size);
  for (size_t i = 0; i < entries->size(); ++i) txn_index::encode((*entries)[i], bytes.data() + i * txn_index::entry_size);
  auto again = txn_index::decode(bytes);
  if (!again || *again != *entries) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> rest(data + 1, size - 1);
  if (data[0] & 1) fuzz_txn_index(rest);
  else fuzz_marker(rest);
  return 0;
}
