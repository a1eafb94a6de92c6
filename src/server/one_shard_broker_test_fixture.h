#pragma once
// Test fixture shared by the coordinator tests over real partition logs (log_internal_partition,
// txn_coordinator): one shard, a partition_manager over a fresh log directory in /tmp, and a
// way to run a step on that shard and wait for it.
//
// The test's own objects that run on the shard (coordinators) must be destroyed after
// stop_shards() and before this fixture's destructor, which drops the partitions and the logs.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "net/shard_group.h"
#include "server/partition_manager.h"
#include "storage/file_system.h"
#include "storage/log_manager.h"

namespace sluice::server::testing {

struct one_shard_broker {
  std::string dir;
  std::unique_ptr<storage::log_manager> logs;
  net::shard_group shards{1};
  std::unique_ptr<partition_manager> pm;

  // Opens the logs in a new directory and applies `img` (as broker img->self_id). Call from the
  // test body or start() (ASSERTs), before shards.start().
  void open_partitions(const cluster::image_ptr& img) {
    char tmpl[] = "/tmp/sluice-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    storage::log_manager_config lc;
    lc.log_dirs = {dir};
    auto opened = storage::log_manager::open(lc, storage::posix_file_system::instance(), system_clock::instance());
    ASSERT_TRUE(opened) << opened.error().message();
    logs = std::move(*opened);
    pm = std::make_unique<partition_manager>(shards, *logs, std::map<std::string, std::string>{}, img->self_id);
    pm->apply_blocking(img);
  }

  // Runs fn on the shard and waits for it (bounded).
  template <typename F>
  void on_shard(F fn) {
    std::promise<void> ran;
    auto fut = ran.get_future();
    shards.post(0, [&] {
      fn();
      ran.set_value();
    });
    ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "shard did not run the step";
  }

  // Polls `is_loaded` on the shard until it holds (about 1 s at most); false if it never did.
  bool wait_on_shard(const std::function<bool()>& is_loaded) {
    bool loaded = false;
    for (int i = 0; i < 200 && !loaded; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      on_shard([&] { loaded = is_loaded(); });
    }
    return loaded;
  }

  ~one_shard_broker() {
    shards.stop();
    pm.reset();
    logs.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

}  // namespace sluice::server::testing
