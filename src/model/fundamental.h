#pragma once
// Fundamental strong types shared by every layer.
#include <cstdint>
#include <limits>
#include <string>

#include "base/named_type.h"

namespace sluice::model {

using offset = named_type<int64_t, struct offset_tag>;
using leader_epoch = named_type<int32_t, struct leader_epoch_tag>;
using partition_id = named_type<int32_t, struct partition_id_tag>;
using node_id = named_type<int32_t, struct node_id_tag>;
using producer_id = named_type<int64_t, struct producer_id_tag>;
using producer_epoch = named_type<int16_t, struct producer_epoch_tag>;
using timestamp_ms = named_type<int64_t, struct timestamp_ms_tag>;

inline constexpr int64_t no_timestamp = -1;
inline constexpr int32_t no_leader_epoch = -1;
inline constexpr int64_t no_producer_id = -1;

}  // namespace sluice::model
