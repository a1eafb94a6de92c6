#include "storage/errc.h"

#include <string>

namespace sluice::storage {
namespace {
class storage_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "storage"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::ok: return "ok";
      case errc::offset_out_of_range: return "offset out of range";
      case errc::message_too_large: return "batch larger than max.message.bytes";
      case errc::invalid_offset: return "batch offsets not above the log end offset";
      case errc::corrupt_batch: return "corrupt record batch";
      case errc::log_failed: return "log failed after an I/O error";
      case errc::not_found: return "not found";
      case errc::already_exists: return "already exists";
      case errc::invalid_config: return "invalid config value";
      case errc::unknown_config: return "unknown config name";
      case errc::corrupt_checkpoint: return "corrupt checkpoint file";
      case errc::invalid_argument: return "invalid argument";
      case errc::out_of_order_sequence: return "out of order sequence number";
      case errc::invalid_producer_epoch: return "producer epoch older than the current one";
      case errc::unknown_producer_id: return "unknown producer id";
      case errc::corrupt_snapshot: return "corrupt producer snapshot";
      case errc::invalid_txn_state: return "non-transactional batch inside an open transaction";
      case errc::transaction_coordinator_fenced: return "marker from an older transaction coordinator epoch";
    }
    return "unknown storage error";
  }
};
}  // namespace

const std::error_category& storage_category() {
  static storage_category_impl c;
  return c;
}

}  // namespace sluice::storage
