#include "storage/log_manager.h"

#include <gtest/gtest.h>

#include "storage/checkpoint_file.h"
#include "storage/errc.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::make_batch;
using test::temp_dir;

struct LogManagerTest : ::testing::Test {
  temp_dir d;
  manual_clock clock;
  log_manager_config cfg() {
    log_manager_config c;
    c.log_dirs = {d.sub("a"), d.sub("b")};
    c.default_config.segment_bytes = 3000;
    c.default_config.segment_index_bytes = 4096;
    return c;
  }
  std::unique_ptr<log_manager> open(log_manager_config c) {
    auto m = log_manager::open(c, posix_file_system::instance(), clock);
    EXPECT_TRUE(m) << m.error().message();
    return m ? std::move(*m) : nullptr;
  }
  static void fill(log& l, int batches) {
    for (int i = 0; i < batches; ++i) {
      auto b = make_batch(10, 100);
      ASSERT_TRUE(l.append(b, 0));
    }
  }
};

TEST_F(LogManagerTest, CreateSpreadsAcrossDirsAndGetFinds) {
  auto m = open(cfg());
  auto a = m->create({"orders", 0}, m->config().default_config);
  auto b = m->create({"orders", 1}, m->config().default_config);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(std::filesystem::exists(d.sub("a/orders-0/00000000000000000000.log")));
  EXPECT_TRUE(std::filesystem::exists(d.sub("b/orders-1/00000000000000000000.log")));
  EXPECT_EQ(m->get({"orders", 1}), *b);
  EXPECT_EQ(m->get({"orders", 2}), nullptr);
  EXPECT_EQ(m->partitions().size(), 2u);
  auto dup = m->create({"orders", 0}, {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), make_error_code(errc::already_exists));
  EXPECT_FALSE(m->create({"bad/name", 0}, {}));
}

TEST_F(LogManagerTest, CleanShutdownWritesMarkerAndCheckpoints) {
  {
    auto m = open(cfg());
    fill(**m->create({"orders", 0}, m->config().default_config), 5);
    ASSERT_TRUE(m->shutdown());
  }
  EXPECT_TRUE(std::filesystem::exists(d.sub("a/.kafka_cleanshutdown")));
  auto rp = test::read_all(d.sub("a/recovery-point-offset-checkpoint"));
  EXPECT_EQ(std::string(rp.begin(), rp.end()), "0\n1\norders 0 50\n");
  auto so = test::read_all(d.sub("a/log-start-offset-checkpoint"));
  EXPECT_EQ(std::string(so.begin(), so.end()), "0\n1\norders 0 0\n");
  auto m = open(cfg());
  log* l = m->get({"orders", 0});
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->recovery().clean_shutdown);
  EXPECT_TRUE(l->recovery().recovered_segments.empty());
  EXPECT_EQ(l->log_end_offset(), 50);
  EXPECT_FALSE(std::filesystem::exists(d.sub("a/.kafka_cleanshutdown")));  // consumed
}

TEST_F(LogManagerTest, UncleanRestartRecoversFromCheckpointedRecoveryPoint) {
  int64_t rp = 0;
  {
    auto m = open(cfg());
    log* l = *m->create({"orders", 0}, m->config().default_config);
    fill(*l, 6);
    ASSERT_TRUE(l->flush());
    rp = l->recovery_point();
    ASSERT_TRUE(m->checkpoint_all());
    fill(*l, 2);
  }  // no shutdown(): a crash
  auto m = open(cfg());
  log* l = m->get({"orders", 0});
  ASSERT_NE(l, nullptr);
  EXPECT_FALSE(l->recovery().clean_shutdown);
  ASSERT_FALSE(l->recovery().recovered_segments.empty());
  EXPECT_LE(l->recovery().recovered_segments.front(), rp);
  EXPECT_GT(l->recovery().recovered_segments.front(), 0);
  EXPECT_EQ(l->log_end_offset(), 80);
}

TEST_F(LogManagerTest, RemoveRenamesThenDeletesAfterDelay) {
  auto m = open(cfg());
  fill(**m->create({"orders", 0}, m->config().default_config), 2);
  ASSERT_TRUE(m->remove({"orders", 0}));
  EXPECT_EQ(m->get({"orders", 0}), nullptr);
  EXPECT_FALSE(std::filesystem::exists(d.sub("a/orders-0")));
  int deletes = 0;
  for (auto& e : std::filesystem::directory_iterator(d.sub("a"))) {
    std::string n = e.path().filename().string();
    if (n.ends_with("-delete")) {
      ++deletes;
      EXPECT_EQ(n.rfind("orders-0.", 0), 0u) << n;
      EXPECT_EQ(n.size(), std::string("orders-0.").size() + 32 + 7) << n;
    }
  }
  EXPECT_EQ(deletes, 1);
  EXPECT_EQ(m->pending_dir_deletes(), 1u);
  clock.advance_ms(60'000);
  ASSERT_TRUE(m->run_periodic_tasks());
  EXPECT_EQ(m->pending_dir_deletes(), 0u);
  for (auto& e : std::filesystem::directory_iterator(d.sub("a")))
    EXPECT_FALSE(e.path().filename().string().ends_with("-delete"));
}

TEST_F(LogManagerTest, StartupSchedulesLeftoverDeleteDirsAndIgnoresStrangers) {
  std::filesystem::create_directories(d.sub("a/orders-3.0123456789abcdef0123456789abcdef-delete"));
  std::filesystem::create_directories(d.sub("a/not_a_partition"));
  auto m = open(cfg());
  EXPECT_TRUE(m->partitions().empty());
  EXPECT_EQ(m->pending_dir_deletes(), 1u);
  ASSERT_TRUE(m->run_periodic_tasks());
  EXPECT_FALSE(std::filesystem::exists(d.sub("a/orders-3.0123456789abcdef0123456789abcdef-delete")));
}

TEST_F(LogManagerTest, PeriodicTasksWriteCheckpointsAndRunLogTasks) {
  auto c = cfg();
  c.default_config.retention_bytes = 3000;
  c.default_config.file_delete_delay_ms = 0;
  auto m = open(c);
  log* l = *m->create({"orders", 0}, c.default_config);
  fill(*l, 6);
  l->set_high_watermark(l->log_end_offset());
  clock.advance_ms(300'000);
  ASSERT_TRUE(m->run_periodic_tasks(/*include_logs=*/true));
  EXPECT_GT(l->log_start_offset(), 0);
  auto so = read_offset_checkpoint(posix_file_system::instance(), d.sub("a/log-start-offset-checkpoint"));
  ASSERT_TRUE(so);
  EXPECT_EQ(so->at({"orders", 0}), l->log_start_offset());
  auto hw = read_offset_checkpoint(posix_file_system::instance(), d.sub("a/replication-offset-checkpoint"));
  EXPECT_EQ(hw->at({"orders", 0}), 60);
}

TEST_F(LogManagerTest, TopicOverridesAppliedAtLoad) {
  {
    auto m = open(cfg());
    ASSERT_TRUE(m->create({"compact", 0}, m->config().default_config));
    ASSERT_TRUE(m->shutdown());
  }
  auto c = cfg();
  c.config_for = [&](const model::topic_partition& tp) {
    auto o = apply_topic_overrides(c.default_config, {{"cleanup.policy", "compact"}});
    return *o;
  };
  auto m = open(c);
  EXPECT_TRUE(m->get({"compact", 0})->config().cleanup_policy_compact);
  log_config changed = m->get({"compact", 0})->config();
  changed.retention_ms = 5;
  m->get({"compact", 0})->set_config(changed);
  EXPECT_EQ(m->get({"compact", 0})->config().retention_ms, 5);
}

}  // namespace
}  // namespace sluice::storage
