#include "cluster/controller.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "cluster/embedded_store.h"

namespace sluice::cluster {

TEST(embedded_store, versions_and_cas) {
  auto store = embedded_store::in_memory();
  metadata_store* s = store.get();
  ASSERT_TRUE(s->create("/a/b", "x"));
  EXPECT_EQ(s->create("/a/b", "y").error(), make_error_code(store_errc::node_exists));
  auto v = s->set("/a/b", "y", 0);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 1);
  EXPECT_EQ(s->set("/a/b", "z", 0).error(), make_error_code(store_errc::bad_version));
  EXPECT_EQ(s->get("/a/b")->data, "y");
  EXPECT_EQ(*s->children("/a"), std::vector<std::string>{"b"});
  EXPECT_EQ(s->remove("/a").error(), make_error_code(store_errc::not_empty));
  EXPECT_TRUE(s->remove("/a", -1, true));
  EXPECT_EQ(s->get("/a/b").error(), make_error_code(store_errc::no_node));
}

TEST(embedded_store, persists_across_reopen_without_ephemerals) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-store-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto s = embedded_store::open(dir, nullptr);
    ASSERT_TRUE(s);
    metadata_store& st = **s;
    ASSERT_TRUE(st.create("/p", "persistent"));
    ASSERT_TRUE(st.create("/e", "ephemeral", true));
  }
  auto s = embedded_store::open(dir, nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->get("/p")->data, "persistent");
  EXPECT_FALSE((*s)->get("/e"));
  std::filesystem::remove_all(dir);
}

TEST(controller, create_describe_delete_topic) {
  auto s = embedded_store::in_memory();
  controller c(*s, 1, {1, "127.0.0.1", 9092, {}}, {3, 1, true}, nullptr);
  ASSERT_TRUE(c.start(nullptr));
  std::string msg;
  auto t = c.create_topic({.name = "orders", .partitions = 6}, false, &msg);
  ASSERT_TRUE(t) << msg;
  EXPECT_EQ(c.image()->find("orders")->partitions.size(), 6u);
  EXPECT_EQ(c.image()->find("orders")->partitions[5].leader, 1);
  EXPECT_EQ(c.create_topic({.name = "orders"}, false, &msg).error(), make_error_code(controller_errc::topic_already_exists));
  EXPECT_EQ(c.create_topic({.name = "bad/name"}, false, &msg).error(), make_error_code(controller_errc::invalid_topic_name));
  EXPECT_EQ(c.create_topic({.name = "x", .replication_factor = 3}, false, &msg).error(),
            make_error_code(controller_errc::invalid_replication_factor));
  ASSERT_TRUE(c.create_partitions("orders", 8, {}, false, &msg)) << msg;
  EXPECT_EQ(c.image()->find("orders")->partitions.size(), 8u);
  EXPECT_FALSE(c.create_partitions("orders", 8, {}, false, &msg));
  // A restarted controller sees the same topics.
  controller c2(*s, 1, {1, "127.0.0.1", 9092, {}}, {3, 1, true}, nullptr);
  ASSERT_TRUE(c2.start(nullptr));
  EXPECT_EQ(c2.image()->find("orders")->partitions.size(), 8u);
  EXPECT_EQ(c2.image()->find("orders")->id, c.image()->find("orders")->id);
  EXPECT_EQ(c2.image()->cluster_id, c.image()->cluster_id);
  EXPECT_EQ(c2.image()->cluster_id.size(), 22u);
  ASSERT_TRUE(c2.delete_topic("orders", &msg));
  EXPECT_EQ(c2.image()->find("orders"), nullptr);
  EXPECT_FALSE(c2.delete_topic("orders", &msg));
}

TEST(controller, validate_only_changes_nothing) {
  auto s = embedded_store::in_memory();
  controller c(*s, 1, {1, "h", 1, {}}, {1, 1, true}, nullptr);
  ASSERT_TRUE(c.start(nullptr));
  ASSERT_TRUE(c.create_topic({.name = "t", .partitions = 2}, true, nullptr));
  EXPECT_EQ(c.image()->find("t"), nullptr);
}

}  // namespace sluice::cluster
