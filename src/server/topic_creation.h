#pragma once
// Creating topics from request handlers: through the controller, then waiting until every shard
// has the new partitions' logs, so a client that sees the topic in a response can use it at once.
#include <string>

#include <asio.hpp>

#include "server/request_context.h"

namespace sluice::server {

// Creates `name` with the broker's default partitions/replication factor (auto-creation).
// Returns false if it could not be created (another creator winning the race counts as success).
asio::awaitable<bool> create_topic_with_defaults(broker_services& broker, const std::string& name);

// Creates an internal topic (__consumer_offsets, __transaction_state) with Kafka's settings for
// it, if it does not exist yet. Returns false if it could not be created.
asio::awaitable<bool> ensure_internal_topic(broker_services& broker, const std::string& name);

// Publishes the controller's latest image to every shard and waits for it.
asio::awaitable<void> propagate_metadata(broker_services& broker);

// Map controller errors to Kafka error codes (one place for the topic-admin handlers).
protocol::error_code to_kafka_error(std::error_code ec);

}  // namespace sluice::server
