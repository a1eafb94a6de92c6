#include "cluster/partition_state.h"

#include <gtest/gtest.h>

#include "cluster/embedded_store.h"
#include "cluster/isr_writer.h"

#include <future>

namespace sluice::cluster {
namespace {

std::error_code err(partition_state_errc e) { return make_error_code(e); }

class update_isr_test : public ::testing::Test {
 protected:
  void SetUp() override {
    partition_state st;
    st.controller_epoch = 3;
    st.leader = 1;
    st.leader_epoch = 4;
    st.isr = {1, 2, 3};
    ASSERT_TRUE(store->create(partition_state_path("t", 0), to_json(st), false, true));
  }
  std::unique_ptr<embedded_store> store = embedded_store::in_memory();
};

TEST(partition_state, json_is_kafkas_and_round_trips) {
  partition_state st{7, 2, 9, {2, 3}};
  auto text = to_json(st);
  EXPECT_EQ(text, R"({"controller_epoch":7,"isr":[2,3],"leader":2,"leader_epoch":9,"version":1})");
  auto back = parse_partition_state(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->controller_epoch, 7);
  EXPECT_EQ(back->leader, 2);
  EXPECT_EQ(back->leader_epoch, 9);
  EXPECT_EQ(back->isr, (std::vector<int32_t>{2, 3}));
  EXPECT_FALSE(parse_partition_state("{}"));
  EXPECT_FALSE(parse_partition_state(R"({"leader":1,"isr":["x"]})"));
  EXPECT_FALSE(parse_partition_state("not json"));
  EXPECT_EQ(partition_state_path("a.b", 12), "/brokers/topics/a.b/partitions/12/state");
}

TEST_F(update_isr_test, leader_shrinks_and_expands_with_compare_and_set) {
  auto v = update_isr(*store, "t", 0, 1, 4, {1, 3}, 0);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(*v, 1);
  auto st = parse_partition_state(store->get(partition_state_path("t", 0))->data);
  EXPECT_EQ(st->isr, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(st->leader_epoch, 4);  // only the controller bumps it
  EXPECT_EQ(st->controller_epoch, 3);
  auto v2 = update_isr(*store, "t", 0, 1, 4, {1, 3, 2}, 1);
  ASSERT_TRUE(v2);
  EXPECT_EQ(*v2, 2);
  EXPECT_EQ(parse_partition_state(store->get(partition_state_path("t", 0))->data)->isr,
            (std::vector<int32_t>{1, 3, 2}));
}

TEST_F(update_isr_test, stale_version_leader_or_epoch_is_rejected_without_a_write) {
  EXPECT_EQ(update_isr(*store, "t", 0, 1, 4, {1}, 5).error(), err(partition_state_errc::stale_partition_epoch));
  EXPECT_EQ(update_isr(*store, "t", 0, 1, 3, {1}, 0).error(), err(partition_state_errc::stale_partition_epoch));
  EXPECT_EQ(update_isr(*store, "t", 0, 2, 4, {2}, 0).error(), err(partition_state_errc::stale_partition_epoch));
  EXPECT_EQ(update_isr(*store, "t", 0, 1, 4, {2, 3}, 0).error(), err(partition_state_errc::invalid_isr));
  EXPECT_EQ(update_isr(*store, "t", 0, 1, 4, {1, 1}, 0).error(), err(partition_state_errc::invalid_isr));
  EXPECT_EQ(update_isr(*store, "t", 1, 1, 4, {1}, 0).error(), err(partition_state_errc::no_partition));
  EXPECT_EQ(store->get(partition_state_path("t", 0))->version, 0);
  // The controller moved on (a new version): the leader's old expectation loses.
  ASSERT_TRUE(store->set(partition_state_path("t", 0), to_json({3, 2, 5, {2, 3}}), 0));
  EXPECT_EQ(update_isr(*store, "t", 0, 1, 4, {1}, 0).error(), err(partition_state_errc::stale_partition_epoch));
}

TEST_F(update_isr_test, isr_writer_runs_requests_off_the_caller_and_reports_the_outcome) {
  isr_writer writer(*store);
  std::promise<std::pair<bool, int32_t>> first, stale;
  writer.submit("t", 0, 1, 4, {1, 2}, 0, [&](bool ok, int32_t e) { first.set_value({ok, e}); });
  writer.submit("t", 0, 1, 4, {1}, 0, [&](bool ok, int32_t e) { stale.set_value({ok, e}); });
  auto f = first.get_future();
  auto s = stale.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_EQ(s.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(f.get(), std::make_pair(true, 1));
  EXPECT_EQ(s.get(), std::make_pair(false, -1));  // expected version 0 is stale after the first
  EXPECT_EQ(parse_partition_state(store->get(partition_state_path("t", 0))->data)->isr, (std::vector<int32_t>{1, 2}));
}

}  // namespace
}  // namespace sluice::cluster
