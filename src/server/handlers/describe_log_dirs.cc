// DescribeLogDirs (key 35): for each log dir, the partitions it holds with their size in bytes
// (offset_lag 0: no future/reassignment replicas here), filtered by the requested topics
// (null = all). v4 adds the file system's total and usable bytes (statvfs).
#include <sys/statvfs.h>

#include <filesystem>
#include <set>

#include "server/handlers/handlers.h"

namespace sluice::server {
namespace {

std::string normal_dir(const std::string& d) {
  auto p = std::filesystem::path(d).lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

struct partition_info {
  model::topic_partition tp;
  std::string log_dir;
  int64_t size_bytes;
};

}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::describe_log_dirs_request& req,
                             protocol::describe_log_dirs_response& resp) {
  using E = protocol::error_code;
  using resp_t = protocol::describe_log_dirs_response;
  auto& broker = ctx.broker;

  // Requested partitions (null = everything).
  std::optional<std::set<model::topic_partition>> wanted;
  if (req.topics) {
    wanted.emplace();
    for (const auto& t : *req.topics)
      for (int32_t p : t.partitions) wanted->insert({t.topic, p});
  }

  std::vector<partition_info> collected;
  auto* infos = &collected;
  const auto* filter = wanted ? &*wanted : nullptr;
  const std::function<void(partition&)> collect = [infos, filter](partition& p) {
    if (filter && !filter->contains(p.tp())) return;
    auto parent = std::filesystem::path(p.log().dir()).parent_path().string();
    infos->push_back({p.tp(), normal_dir(parent), static_cast<int64_t>(p.log().size_bytes())});
  };
  co_await broker.partitions.for_each_partition(collect);
  std::sort(infos->begin(), infos->end(), [](const auto& a, const auto& b) { return a.tp < b.tp; });

  for (const auto& dir : broker.config.get().log_dirs()) {
    resp_t::describe_log_dirs_result r;
    r.log_dir = dir;
    const std::string nd = normal_dir(dir);
    struct statvfs st{};
    if (::statvfs(dir.c_str(), &st) != 0) {
      r.error_code = code(E::kafka_storage_error);
      resp.results.push_back(std::move(r));
      continue;
    }
    r.total_bytes = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
    r.usable_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
    for (const auto& info : *infos) {
      if (info.log_dir != nd) continue;
      if (r.topics.empty() || r.topics.back().name != info.tp.topic) {
        resp_t::describe_log_dirs_topic t;
        t.name = info.tp.topic;
        r.topics.push_back(std::move(t));
      }
      resp_t::describe_log_dirs_partition p;
      p.partition_index = info.tp.partition;
      p.partition_size = info.size_bytes;
      p.offset_lag = 0;
      p.is_future_key = false;
      r.topics.back().partitions.push_back(p);
    }
    resp.results.push_back(std::move(r));
  }
  co_return;
}

}  // namespace sluice::server
