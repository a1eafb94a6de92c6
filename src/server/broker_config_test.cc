#include "server/broker_config.h"

#include <gtest/gtest.h>

namespace sluice::server {

TEST(broker_config, kafka_defaults) {
  std::string err;
  auto c = broker_config::from_settings({}, &err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->get_int("num.partitions"), 1);
  EXPECT_EQ(c->get_int("message.max.bytes"), 1048588);
  EXPECT_EQ(c->get_int("socket.request.max.bytes"), 104857600);
  EXPECT_TRUE(c->get_bool("auto.create.topics.enable"));
  EXPECT_EQ(c->log_retention_ms(), 168LL * 3600 * 1000);
  EXPECT_EQ(c->log_roll_ms(), 168LL * 3600 * 1000);
  EXPECT_EQ(c->log_dirs(), std::vector<std::string>{"/tmp/kafka-logs"});
}

TEST(broker_config, unknown_key_named) {
  std::string err;
  auto c = broker_config::from_settings({{"num.partitoins", "3"}}, &err);
  EXPECT_FALSE(c);
  EXPECT_NE(err.find("num.partitoins"), std::string::npos) << err;
}

TEST(broker_config, bad_value_named) {
  std::string err;
  EXPECT_FALSE(broker_config::from_settings({{"num.partitions", "three"}}, &err));
  EXPECT_NE(err.find("num.partitions"), std::string::npos) << err;
  EXPECT_FALSE(broker_config::from_settings({{"num.partitions", "0"}}, &err));
  EXPECT_FALSE(broker_config::from_settings({{"auto.create.topics.enable", "yes"}}, &err));
  EXPECT_FALSE(broker_config::from_settings({{"compression.type", "brotli"}}, &err));
  EXPECT_FALSE(broker_config::from_settings({{"listeners", "127.0.0.1:9092"}}, &err));
  EXPECT_NE(err.find("listeners"), std::string::npos) << err;
}

TEST(broker_config, retention_precedence) {
  std::string err;
  auto c = broker_config::from_settings({{"log.retention.hours", "1"}, {"log.retention.minutes", "2"}}, &err);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->log_retention_ms(), 120000);
  c = broker_config::from_settings({{"log.retention.minutes", "2"}, {"log.retention.ms", "5"}}, &err);
  EXPECT_EQ(c->log_retention_ms(), 5);
}

TEST(broker_config, properties_file) {
  std::string err;
  auto p = broker_config::parse_properties("# comment\n! also\nbroker.id = 3\nlog.dirs=/a,\\\n  /b\n\nnum.partitions: 6\n", &err);
  ASSERT_TRUE(p) << err;
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0], (std::pair<std::string, std::string>{"broker.id", "3"}));
  EXPECT_EQ((*p)[1].second, "/a,/b");
  auto c = broker_config::from_settings(*p, &err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->log_dirs(), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_FALSE(broker_config::parse_properties("novalue\n", &err));
}

TEST(broker_config, dynamic_updates) {
  std::string err;
  auto c = broker_config::from_settings({}, &err);
  ASSERT_TRUE(c->set_dynamic("message.max.bytes", "2000", &err));
  EXPECT_EQ(c->get_int("message.max.bytes"), 2000);
  ASSERT_TRUE(c->set_dynamic("message.max.bytes", std::nullopt, &err));
  EXPECT_EQ(c->get_int("message.max.bytes"), 1048588);
  EXPECT_FALSE(c->set_dynamic("broker.id", "2", &err));
}

}  // namespace sluice::server
