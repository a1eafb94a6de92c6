#pragma once
// Tagged fields (KIP-482) that a decoder did not recognise. They are kept verbatim so a message
// can be re-encoded without losing what a newer peer sent.
#include <cstdint>
#include <vector>

namespace sluice::protocol {

struct tagged_field {
  uint32_t tag = 0;
  std::vector<uint8_t> data;
  bool operator==(const tagged_field&) const = default;
};

using tagged_fields = std::vector<tagged_field>;

}  // namespace sluice::protocol
