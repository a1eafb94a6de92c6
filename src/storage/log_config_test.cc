#include "storage/log_config.h"

#include <gtest/gtest.h>

#include "storage/errc.h"

namespace sluice::storage {
namespace {

TEST(LogConfig, DefaultsMatchKafka) {
  log_config c;
  EXPECT_EQ(c.segment_bytes, 1073741824);
  EXPECT_EQ(c.segment_ms, 604800000);
  EXPECT_EQ(c.segment_jitter_ms, 0);
  EXPECT_EQ(c.segment_index_bytes, 10485760);
  EXPECT_EQ(c.index_interval_bytes, 4096);
  EXPECT_EQ(c.retention_ms, 604800000);
  EXPECT_EQ(c.retention_bytes, -1);
  EXPECT_EQ(c.flush_messages, INT64_MAX);
  EXPECT_EQ(c.flush_ms, INT64_MAX);
  EXPECT_EQ(c.file_delete_delay_ms, 60000);
  EXPECT_EQ(c.max_message_bytes, 1048588);
  EXPECT_EQ(c.message_timestamp_type, timestamp_type::create_time);
  EXPECT_TRUE(c.cleanup_policy_delete);
  EXPECT_FALSE(c.cleanup_policy_compact);
  EXPECT_FALSE(c.preallocate);
  EXPECT_EQ(c.min_insync_replicas, 1);
  EXPECT_FALSE(c.flush_messages_enabled());
}

TEST(LogConfig, OverridesApply) {
  config_error err;
  auto c = apply_topic_overrides({}, {{"segment.bytes", "1048576"}, {"retention.ms", "-1"}, {"cleanup.policy", "compact,delete"},
                                      {"message.timestamp.type", "LogAppendTime"}, {"preallocate", "true"},
                                      {"flush.messages", "1"}},
                                  &err);
  ASSERT_TRUE(c) << err.reason;
  EXPECT_EQ(c->segment_bytes, 1048576);
  EXPECT_EQ(c->retention_ms, -1);
  EXPECT_TRUE(c->cleanup_policy_compact && c->cleanup_policy_delete);
  EXPECT_EQ(c->message_timestamp_type, timestamp_type::log_append_time);
  EXPECT_TRUE(c->preallocate);
  EXPECT_TRUE(c->flush_messages_enabled());
}

TEST(LogConfig, UnknownKeyRejectedNamingIt) {
  config_error err;
  auto c = apply_topic_overrides({}, {{"segment.bytes", "100000"}, {"no.such.config", "1"}}, &err);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), make_error_code(errc::unknown_config));
  EXPECT_EQ(err.key, "no.such.config");
}

TEST(LogConfig, BadValuesRejectedNamingKey) {
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{{"segment.bytes", "13"},
                                                                      {"segment.bytes", "abc"},
                                                                      {"segment.bytes", "4294967296"},
                                                                      {"retention.ms", "-2"},
                                                                      {"flush.messages", "0"},
                                                                      {"cleanup.policy", "forever"},
                                                                      {"preallocate", "yes"},
                                                                      {"message.timestamp.type", "Now"},
                                                                      {"min.cleanable.dirty.ratio", "1.5"},
                                                                      {"compression.type", "brotli"},
                                                                      {"min.insync.replicas", "0"}}) {
    config_error err;
    auto c = apply_topic_overrides({}, {{k, v}}, &err);
    ASSERT_FALSE(c) << k << "=" << v;
    EXPECT_EQ(c.error(), make_error_code(errc::invalid_config));
    EXPECT_EQ(err.key, k);
    EXPECT_NE(err.reason.find(k), std::string::npos) << err.reason;
  }
}

TEST(LogConfig, BrokerPropertiesMapToTopicConfigs) {
  auto c = log_config_from_broker_properties({{"log.segment.bytes", "2048"},
                                              {"log.roll.hours", "1"},
                                              {"log.retention.hours", "24"},
                                              {"log.retention.minutes", "30"},
                                              {"log.retention.bytes", "1000000"},
                                              {"log.flush.interval.messages", "5"},
                                              {"log.index.size.max.bytes", "4096"},
                                              {"log.index.interval.bytes", "100"},
                                              {"log.segment.delete.delay.ms", "0"},
                                              {"message.max.bytes", "500"},
                                              {"broker.id", "1"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->segment_bytes, 2048);
  EXPECT_EQ(c->segment_ms, 3'600'000);
  EXPECT_EQ(c->retention_ms, 30 * 60'000);  // minutes beat hours
  EXPECT_EQ(c->retention_bytes, 1000000);
  EXPECT_EQ(c->flush_messages, 5);
  EXPECT_EQ(c->segment_index_bytes, 4096);
  EXPECT_EQ(c->index_interval_bytes, 100);
  EXPECT_EQ(c->file_delete_delay_ms, 0);
  EXPECT_EQ(c->max_message_bytes, 500);
  auto ms = log_config_from_broker_properties({{"log.retention.ms", "5"}, {"log.retention.minutes", "30"}});
  EXPECT_EQ(ms->retention_ms, 5);
  config_error err;
  auto bad = log_config_from_broker_properties({{"log.roll.hours", "x"}}, &err);
  ASSERT_FALSE(bad);
  EXPECT_EQ(err.key, "log.roll.hours");
}

TEST(LogConfig, DescribeListsEveryTopicConfig) {
  auto d = describe_log_config({});
  EXPECT_EQ(d.at("segment.bytes"), "1073741824");
  EXPECT_EQ(d.at("cleanup.policy"), "delete");
  EXPECT_EQ(d.at("message.timestamp.type"), "CreateTime");
  EXPECT_EQ(d.size(), topic_config_names().size());
  // Every described value parses back to the same config.
  auto c = apply_topic_overrides({}, d);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, log_config{});
  EXPECT_TRUE(is_topic_config("retention.bytes"));
  EXPECT_FALSE(is_topic_config("log.retention.bytes"));
}

}  // namespace
}  // namespace sluice::storage
