#include "coordinator/txn/producer_id_manager.h"

#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cluster/embedded_store.h"

namespace sluice::coordinator {
namespace {

TEST(producer_id_manager, hands_out_consecutive_ids_from_blocks) {
  auto store = cluster::embedded_store::in_memory();
  producer_id_manager m(*store, 7, 10);
  for (int64_t i = 0; i < 25; ++i) {
    auto id = m.next_id();
    ASSERT_TRUE(id) << id.error().message();
    EXPECT_EQ(*id, i);
  }
  // Third block claimed: 20..29, recorded in the store as Kafka does.
  EXPECT_EQ(m.current_block(), (producer_id_block{7, 20, 29}));
  auto node = store->get(producer_id_block_path);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->data, R"({"block_end":"29","block_start":"20","broker":7,"version":1})");
  EXPECT_EQ(node->version, 2);  // created, then two compare-and-sets
}

TEST(producer_id_manager, two_brokers_never_share_an_id) {
  auto store = cluster::embedded_store::in_memory();
  producer_id_manager a(*store, 1, 5), b(*store, 2, 5);
  std::set<int64_t> seen;
  for (int i = 0; i < 40; ++i) {
    auto x = (i % 3 == 0 ? b : a).next_id();
    ASSERT_TRUE(x);
    EXPECT_TRUE(seen.insert(*x).second) << "duplicate id " << *x;
  }
}

TEST(producer_id_manager, concurrent_callers_get_unique_ids) {
  auto store = cluster::embedded_store::in_memory();
  producer_id_manager a(*store, 1, 7), b(*store, 2, 3);
  std::vector<int64_t> ids[4];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto x = (t % 2 ? a : b).next_id();
        ASSERT_TRUE(x) << x.error().message();
        ids[t].push_back(*x);
      }
    });
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  for (auto& v : ids) {
    EXPECT_EQ(v.size(), 200u);
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), 800u);
}

TEST(producer_id_manager, ids_are_not_reused_after_restart) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("sluice-pid-{}", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string error;
  int64_t last = -1;
  {
    auto store = cluster::embedded_store::open(dir.string(), &error);
    ASSERT_TRUE(store) << error;
    producer_id_manager m(**store, 1, 1000);
    for (int i = 0; i < 3; ++i) last = *m.next_id();
    EXPECT_EQ(last, 2);
  }
  {
    auto store = cluster::embedded_store::open(dir.string(), &error);
    ASSERT_TRUE(store) << error;
    producer_id_manager m(**store, 1, 1000);
    auto id = m.next_id();
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, 1000);  // the rest of the first block is skipped, never reused
  }
  std::filesystem::remove_all(dir);
}

TEST(producer_id_manager, corrupt_or_exhausted_block_is_an_error) {
  auto store = cluster::embedded_store::in_memory();
  ASSERT_TRUE(store->create(producer_id_block_path, "not json", false, true));
  producer_id_manager m(*store, 1, 10);
  auto r = m.next_id();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(txn_errc::corrupt_producer_id_block));

  auto store2 = cluster::embedded_store::in_memory();
  producer_id_block near_end{1, INT64_MAX - 15, INT64_MAX - 5};
  ASSERT_TRUE(store2->create(producer_id_block_path, encode_producer_id_block(near_end), false, true));
  producer_id_manager m2(*store2, 1, 10);
  auto r2 = m2.next_id();
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), make_error_code(txn_errc::producer_ids_exhausted));
}

TEST(producer_id_block_json, parses_kafka_strings_and_numbers) {
  auto b = parse_producer_id_block(R"({"version":1,"broker":3,"block_start":"1000","block_end":"1999"})");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (producer_id_block{3, 1000, 1999}));
  EXPECT_TRUE(parse_producer_id_block(R"({"version":1,"broker":3,"block_start":0,"block_end":999})"));
  EXPECT_FALSE(parse_producer_id_block(R"({"version":2,"broker":3,"block_start":"0","block_end":"9"})"));
  EXPECT_FALSE(parse_producer_id_block(R"({"version":1,"broker":3,"block_start":"9","block_end":"0"})"));
  EXPECT_FALSE(parse_producer_id_block(R"({"version":1,"broker":3,"block_start":"x","block_end":"9"})"));
  EXPECT_FALSE(parse_producer_id_block(R"([1,2])"));
}

}  // namespace
}  // namespace sluice::coordinator
