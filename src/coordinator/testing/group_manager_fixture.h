#pragma once
// Test fixture: a group_manager that owns partition `partition` of an in-memory
// __consumer_offsets (memory_log), on a manual clock, with no initial rebalance delay and a
// 100 ms minimum session timeout. restart() replaces the manager with a new one that loads what
// the previous one wrote (a coordinator failover).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

#include "base/clock.h"
#include "coordinator/group/group_manager.h"
#include "coordinator/testing/memory_partition.h"

namespace sluice::coordinator::testing {

struct group_manager_fixture : ::testing::Test {
  manual_clock clock;
  group::group_config cfg;
  std::shared_ptr<memory_log> log = std::make_shared<memory_log>();
  std::unique_ptr<group::group_manager> gm;

  explicit group_manager_fixture(int32_t partition) : _partition(partition) {
    cfg.initial_rebalance_delay_ms = 0;
    cfg.min_session_timeout_ms = 100;
    restart();
  }
  void restart() {
    gm = std::make_unique<group::group_manager>(cfg, clock);
    ASSERT_TRUE(gm->load(_partition, std::make_unique<memory_partition>(log)));
  }

 private:
  int32_t _partition;
};

}  // namespace sluice::coordinator::testing
