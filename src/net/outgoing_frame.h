#pragma once
// A response on its way to the socket: byte chunks and file ranges (sent with sendfile(2)),
// written in order. The 4-byte size prefix is part of the first byte chunk.
#include <cstdint>
#include <variant>
#include <vector>

#include "base/file_range.h"

namespace sluice::net {

using frame_chunk = std::variant<std::vector<uint8_t>, file_range>;

struct outgoing_frame {
  std::vector<frame_chunk> chunks;
  size_t size_bytes() const {
    size_t n = 0;
    for (const auto& c : chunks)
      n += std::holds_alternative<file_range>(c) ? std::get<file_range>(c).size : std::get<std::vector<uint8_t>>(c).size();
    return n;
  }
};

}  // namespace sluice::net
