#pragma once
// A byte range of an open file, handed from storage to the network layer so Fetch responses
// can be sent with sendfile(2) without copying record data through user space.
// `keepalive` owns whatever keeps `fd` open (a segment's file handle): the range stays valid
// while any copy of it exists, even if the segment is deleted or rolled meanwhile.
#include <cstdint>
#include <memory>

namespace sluice {

struct file_range {
  std::shared_ptr<const void> keepalive;
  int fd = -1;
  uint64_t offset = 0;
  uint32_t size = 0;
};

}  // namespace sluice
