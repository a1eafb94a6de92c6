#pragma once
// CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2. Uses the SSE4.2 crc32
// instruction when the CPU has it, a table otherwise. Check value: "123456789" -> 0xE3069283.
#include <cstddef>
#include <cstdint>

namespace sluice {

// Extends `crc` (0 to start) over `data[0..size)`.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);
inline uint32_t crc32c(const void* data, size_t size) { return crc32c_extend(0, data, size); }

// CRC-32 (IEEE 802.3), used by legacy magic 0/1 messages and librdkafka's default partitioner.
uint32_t crc32_ieee(const void* data, size_t size);

}  // namespace sluice
