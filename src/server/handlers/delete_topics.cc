// DeleteTopics (key 20): deletes topics by name (v0-v6) or by topic id (v6) through the
// controller, then waits until every shard has dropped the partitions (their directories are
// renamed <topic>-<partition>.<id>-delete and removed by storage).
#include <fmt/format.h>

#include "server/handlers/handlers.h"
#include "server/topic_creation.h"

namespace sluice::server {

asio::awaitable<void> handle(request_context& ctx, protocol::delete_topics_request& req,
                             protocol::delete_topics_response& resp) {
  using E = protocol::error_code;
  auto& broker = ctx.broker;
  const int16_t version = ctx.version();
  const protocol::uuid zero{};
  const bool deletion_enabled = broker.config.get().get_bool("delete.topic.enable");

  // Normalise: v0-5 name only; v6 name or id.
  struct target {
    std::optional<std::string> name;
    protocol::uuid id{};
  };
  std::vector<target> targets;
  if (version >= 6) {
    for (const auto& t : req.topics) targets.push_back({t.name, t.topic_id});
  } else {
    for (const auto& n : req.topic_names) targets.push_back({n, zero});
  }

  std::map<std::string, int> name_count;
  std::map<protocol::uuid, int> id_count;
  for (const auto& t : targets) {
    if (t.name) name_count[*t.name]++;
    if (t.id != zero) id_count[t.id]++;
  }

  auto img = broker.controller.image();
  bool deleted_any = false;
  for (const auto& t : targets) {
    protocol::delete_topics_response::deletable_topic_result r;
    r.name = t.name;
    r.topic_id = t.id;
    r.error_message = std::nullopt;
    auto fail = [&](E e, std::string message) {
      r.error_code = code(e);
      if (version >= 5) r.error_message = std::move(message);
    };
    if (t.name && t.id != zero) {
      fail(E::invalid_request, "You may not specify both topic name and topic id.");
    } else if (!t.name && t.id == zero) {
      // v6 with a null name and the zero id: Kafka looks the zero id up and finds nothing.
      fail(E::unknown_topic_id, "This server does not host this topic ID.");
    } else if ((t.name && name_count[*t.name] > 1) || (t.id != zero && id_count[t.id] > 1)) {
      fail(E::invalid_request, "Duplicate topic in request.");
    } else if (!deletion_enabled) {
      // Kafka answers v0-v2 with INVALID_REQUEST (the error code did not exist yet).
      fail(version < 3 ? E::invalid_request : E::topic_deletion_disabled, "Topic deletion is disabled.");
    } else {
      const cluster::topic_metadata* tm = nullptr;
      if (t.name) {
        tm = img->find(*t.name);
        if (!tm) fail(E::unknown_topic_or_partition, "This server does not host this topic-partition.");
      } else {
        for (const auto& [n, m] : img->topics)
          if (m.id == t.id) tm = &m;
        if (!tm) fail(E::unknown_topic_id, "This server does not host this topic ID.");
      }
      if (tm) {
        r.name = tm->name;
        r.topic_id = tm->id;
        std::string message;
        if (auto d = broker.controller.delete_topic(tm->name, &message); !d) {
          fail(to_kafka_error(d.error()), message);
        } else {
          deleted_any = true;
        }
      }
    }
    resp.responses.push_back(std::move(r));
  }
  if (deleted_any) co_await propagate_metadata(broker);
  co_return;
}

}  // namespace sluice::server
