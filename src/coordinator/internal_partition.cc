#include "coordinator/internal_partition.h"

#include <string>

namespace sluice::coordinator {

namespace {
class write_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "internal_partition"; }
  std::string message(int c) const override {
    switch (static_cast<write_errc>(c)) {
      case write_errc::ok: return "ok";
      case write_errc::unknown_partition: return "partition not hosted here";
      case write_errc::not_leader: return "not the partition's leader";
      case write_errc::not_enough_replicas: return "fewer in-sync replicas than min.insync.replicas";
      case write_errc::not_enough_replicas_after_append: return "written, but the ISR shrank below min.insync.replicas";
      case write_errc::timed_out: return "not replicated within offsets.commit.timeout.ms";
      case write_errc::too_large: return "batch larger than max.message.bytes";
      case write_errc::storage_error: return "log write failed";
      case write_errc::invalid_producer_epoch: return "the producer's epoch is older than one already written";
    }
    return "unknown internal partition error";
  }
};
}  // namespace

const std::error_category& write_category() {
  static const write_category_impl c;
  return c;
}

}  // namespace sluice::coordinator
