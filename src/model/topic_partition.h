#pragma once
#include <functional>
#include <string>

#include <fmt/format.h>

#include "model/fundamental.h"

namespace sluice::model {

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const topic_partition&) const = default;
  auto operator<=>(const topic_partition&) const = default;
};

// Kafka's topic name rule: 1..249 chars of [a-zA-Z0-9._-], not "." or "..".
bool is_valid_topic_name(std::string_view name);

}  // namespace sluice::model

template <>
struct std::hash<sluice::model::topic_partition> {
  size_t operator()(const sluice::model::topic_partition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + static_cast<size_t>(tp.partition);
  }
};

template <>
struct fmt::formatter<sluice::model::topic_partition> : fmt::formatter<std::string_view> {
  auto format(const sluice::model::topic_partition& tp, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}-{}", tp.topic, tp.partition);
  }
};
