// In-process clusters: several "brokers" (a store session, a metadata_watcher and
// controller_duties each) on one embedded store, or on a real ZooKeeper once. Killing a broker
// expires its session, as a crash does.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cluster/broker_registration.h"
#include "cluster/controller_duties.h"
#include "cluster/embedded_store.h"
#include "cluster/metadata_watcher.h"
#include "cluster/partition_state.h"
#include "cluster/testing/zookeeper_server.h"
#include "cluster/topic_codec.h"
#include "cluster/zookeeper_store.h"

namespace sluice::cluster {
namespace {

constexpr int64_t wait_ms = 15000;

struct test_broker {
  int32_t id = 0;
  std::unique_ptr<metadata_store> session;
  std::unique_ptr<metadata_watcher> watcher;
  std::unique_ptr<controller_duties> duties;

  // Crash: the session ends first (ephemeral nodes vanish), then the threads stop.
  void kill() {
    if (auto* e = dynamic_cast<embedded_session*>(session.get())) e->expire();
    session_closed = true;
    duties.reset();
    watcher.reset();
    session.reset();
  }
  bool session_closed = false;
  ~test_broker() { kill(); }
};

class cluster_test : public ::testing::Test {
 protected:
  std::unique_ptr<embedded_store> store = embedded_store::in_memory();
  std::map<int32_t, std::unique_ptr<test_broker>> brokers;
  controller_settings settings{.leader_imbalance_check_interval_ms = 3'600'000};

  virtual std::unique_ptr<metadata_store> new_session() { return store->open_session(); }

  test_broker& start(int32_t id) {
    auto b = std::make_unique<test_broker>();
    b->id = id;
    b->session = new_session();
    std::string error;
    EXPECT_TRUE(register_broker(*b->session, broker_endpoint{id, "127.0.0.1", 9000 + id, std::nullopt}, 0, &error))
        << error;
    b->watcher = std::make_unique<metadata_watcher>(*b->session, id);
    EXPECT_TRUE(b->watcher->start(&error)) << error;
    b->duties = std::make_unique<controller_duties>(*b->session, *b->watcher, id, settings);
    b->duties->start();
    auto& ref = *b;
    brokers[id] = std::move(b);
    return ref;
  }
  void kill(int32_t id) { brokers.erase(id); }

  metadata_store& any_store() { return *brokers.begin()->second->session; }

  void create_topic(const std::string& name, const std::vector<std::vector<int32_t>>& replicas) {
    topic_metadata t;
    t.name = name;
    t.id = random_uuid();
    for (size_t p = 0; p < replicas.size(); ++p) t.partitions.push_back({static_cast<int32_t>(p), replicas[p]});
    ASSERT_TRUE(any_store().create(topic_node_path(name), topic_node_json(t), false, true));
  }

  // Waits until every running broker's image satisfies pred.
  bool all_see(const std::function<bool(const metadata_image&)>& pred) {
    for (auto& [id, b] : brokers)
      if (!b->watcher->wait_for(pred, wait_ms)) return false;
    return true;
  }
  static std::function<bool(const metadata_image&)> partition_is(const std::string& t, int32_t p, int32_t leader,
                                                                 std::vector<int32_t> isr, int32_t leader_epoch) {
    return [=](const metadata_image& img) {
      auto* pm = img.find_partition(t, p);
      return pm && pm->leader == leader && pm->isr == isr && pm->leader_epoch == leader_epoch;
    };
  }
  int active_controllers() {
    int n = 0;
    for (auto& [id, b] : brokers) n += b->duties->is_active() ? 1 : 0;
    return n;
  }
  int32_t wait_for_one_controller() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (active_controllers() == 1)
        for (auto& [id, b] : brokers)
          if (b->duties->is_active()) return id;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  std::string state_json(const std::string& t, int32_t p) { return any_store().get(partition_state_path(t, p))->data; }
};

TEST_F(cluster_test, one_controller_creates_partition_states_every_broker_sees) {
  start(1), start(2), start(3);
  int32_t c = wait_for_one_controller();
  ASSERT_NE(c, -1);
  EXPECT_EQ(any_store().get("/controller_epoch")->data, "1");
  ASSERT_TRUE(all_see([&](const metadata_image& img) { return img.controller_id == c && img.brokers.size() == 3; }));
  create_topic("t", {{1, 2, 3}, {2, 3, 1}, {3, 1, 2}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2, 3}, 0)));
  ASSERT_TRUE(all_see(partition_is("t", 1, 2, {2, 3, 1}, 0)));
  ASSERT_TRUE(all_see(partition_is("t", 2, 3, {3, 1, 2}, 0)));
  auto img = brokers[2]->watcher->image();
  EXPECT_EQ(img->self_id, 2);
  EXPECT_EQ(img->find_partition("t", 0)->partition_epoch, 0);
  EXPECT_EQ(img->brokers[1].port, 9002);
  auto st = parse_partition_state(state_json("t", 1));
  EXPECT_EQ(st->controller_epoch, 1);
  EXPECT_EQ(active_controllers(), 1);
}

TEST_F(cluster_test, leader_failover_shrinks_isr_and_bumps_leader_epochs) {
  start(1), start(2), start(3);
  create_topic("t", {{1, 2, 3}, {2, 1, 3}, {3, 2}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2, 3}, 0)));
  ASSERT_TRUE(all_see(partition_is("t", 2, 3, {3, 2}, 0)));
  kill(1);
  // Led by 1: the next live ISR member in replica order leads.
  ASSERT_TRUE(all_see(partition_is("t", 0, 2, {2, 3}, 1)));
  // 1 was a follower: it leaves the ISR, epoch bumped (Kafka ZK behaviour).
  ASSERT_TRUE(all_see(partition_is("t", 1, 2, {2, 3}, 1)));
  // Not a replica on 1: untouched.
  ASSERT_TRUE(all_see(partition_is("t", 2, 3, {3, 2}, 0)));
  EXPECT_EQ(brokers[2]->watcher->image()->find_partition("t", 0)->partition_epoch, 1);
}

TEST_F(cluster_test, no_live_isr_member_leaves_the_partition_offline_until_it_returns) {
  start(1), start(2), start(3);
  create_topic("t", {{1, 2}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2}, 0)));
  kill(2);
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1}, 1)));
  kill(1);
  ASSERT_TRUE(all_see(partition_is("t", 0, -1, {1}, 2)));
  start(2);  // out of sync: with unclean election disabled it must not lead
  ASSERT_TRUE(all_see([](const metadata_image& img) { return img.brokers.size() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(all_see(partition_is("t", 0, -1, {1}, 2)));
  start(1);
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1}, 3)));
}

TEST_F(cluster_test, unclean_election_picks_a_live_out_of_sync_replica) {
  settings.unclean_leader_election = true;
  start(1), start(2), start(3);
  create_topic("t", {{1, 2}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2}, 0)));
  kill(2);
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1}, 1)));
  kill(1);
  ASSERT_TRUE(all_see(partition_is("t", 0, -1, {1}, 2)));
  start(2);
  ASSERT_TRUE(all_see(partition_is("t", 0, 2, {2}, 3)));
}

TEST_F(cluster_test, a_new_controller_takes_over_and_handles_the_next_failover) {
  start(1), start(2), start(3);
  int32_t first = wait_for_one_controller();
  ASSERT_NE(first, -1);
  create_topic("t", {{1, 2, 3}, {2, 3, 1}, {3, 1, 2}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2, 3}, 0)));
  kill(first);
  int32_t second = wait_for_one_controller();
  ASSERT_NE(second, -1);
  EXPECT_NE(second, first);
  EXPECT_EQ(any_store().get("/controller_epoch")->data, "2");
  ASSERT_TRUE(all_see([&](const metadata_image& img) { return img.controller_id == second; }));
  // The dead controller's partitions failed over too.
  for (int32_t p = 0; p < 3; ++p) {
    ASSERT_TRUE(all_see([&](const metadata_image& img) {
      auto* pm = img.find_partition("t", p);
      return pm && pm->leader != first && pm->leader != -1 && pm->isr.size() == 2;
    }));
  }
  // The next failure is handled by the new controller: kill the one broker left besides it.
  // (Any of the three may win either election, so `other` is whichever remains; a fixed formula
  // here once picked the already-dead first controller when first = 3 and second = 2, so nothing
  // died and the test waited for a failover that had no cause.)
  ASSERT_EQ(brokers.size(), 2u);
  int32_t other = -1;
  for (auto& [id, b] : brokers)
    if (id != second) other = id;
  ASSERT_NE(other, -1);
  ASSERT_NE(other, first);
  kill(other);
  ASSERT_EQ(brokers.size(), 1u);
  ASSERT_TRUE(all_see([&](const metadata_image& img) {
    for (int32_t p = 0; p < 3; ++p) {
      auto* pm = img.find_partition("t", p);
      if (!pm || pm->leader != second || pm->isr != std::vector<int32_t>{second}) return false;
    }
    return true;
  }));
  EXPECT_EQ(parse_partition_state(state_json("t", 0))->controller_epoch, 2);
}

TEST_F(cluster_test, a_deposed_controller_is_fenced_by_the_controller_epoch) {
  start(1);
  ASSERT_EQ(wait_for_one_controller(), 1);
  start(2), start(3);
  create_topic("t", {{2, 3}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 2, {2, 3}, 0)));
  // Another controller was elected meanwhile (what a session expiry would cause).
  auto epoch = any_store().get("/controller_epoch");
  ASSERT_TRUE(any_store().set("/controller_epoch", "2", epoch->version));
  auto before = state_json("t", 0);
  kill(3);  // broker 1 plans an ISR change and must fail the fence
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (brokers[1]->duties->is_active() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(brokers[1]->duties->is_active());
  EXPECT_EQ(state_json("t", 0), before);
}

TEST_F(cluster_test, controlled_shutdown_moves_leadership_away_first) {
  start(1), start(2), start(3);
  create_topic("t", {{1, 2, 3}, {2, 1, 3}, {1}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2, 3}, 0)));
  ASSERT_TRUE(all_see(partition_is("t", 1, 2, {2, 1, 3}, 0)));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(controlled_shutdown(*brokers[1]->session, *brokers[1]->watcher, 1, wait_ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  auto img = brokers[1]->watcher->image();
  EXPECT_EQ(img->find_partition("t", 0)->leader, 2);
  EXPECT_EQ(img->find_partition("t", 0)->isr, (std::vector<int32_t>{2, 3}));
  // Where it is a follower it leaves the ISR too (possibly in a later image: the wait covers
  // leadership only).
  ASSERT_TRUE(all_see(partition_is("t", 1, 2, {2, 3}, 1)));
  // Its only replica: nobody else can lead it, it stays.
  EXPECT_EQ(img->find_partition("t", 2)->leader, 1);
  EXPECT_EQ(img->find_partition("t", 2)->isr, (std::vector<int32_t>{1}));
}

TEST_F(cluster_test, preferred_leader_returns_after_it_rejoins_the_isr) {
  settings.leader_imbalance_check_interval_ms = 200;
  start(1), start(2), start(3);
  create_topic("t", {{1, 2, 3}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2, 3}, 0)));
  kill(1);
  ASSERT_TRUE(all_see(partition_is("t", 0, 2, {2, 3}, 1)));
  start(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(all_see(partition_is("t", 0, 2, {2, 3}, 1)));  // not in the ISR: stays with 2
  // The leader (2) adds the caught-up replica back (the data plane's ISR expansion).
  auto pm = *brokers[2]->watcher->image()->find_partition("t", 0);
  auto v = update_isr(*brokers[2]->session, "t", 0, 2, pm.leader_epoch, {2, 3, 1}, pm.partition_epoch);
  ASSERT_TRUE(v) << v.error().message();
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {2, 3, 1}, 2)));
}

TEST_F(cluster_test, registration_of_a_live_broker_id_is_refused) {
  start(1);
  auto other = store->open_session();
  std::string error;
  auto r = register_broker(*other, broker_endpoint{1, "10.0.0.9", 1234, std::nullopt}, 300, &error);
  EXPECT_EQ(r.error(), make_error_code(store_errc::node_exists));
  EXPECT_NE(error.find("broker.id 1 is already registered by a live broker (127.0.0.1:9001)"), std::string::npos)
      << error;
  // Once the holder is gone (its session expired), the id is free again.
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    kill(1);
  });
  EXPECT_TRUE(register_broker(*other, broker_endpoint{1, "10.0.0.9", 1234, std::nullopt}, 5000, &error)) << error;
  killer.join();
  auto reg = parse_registration(1, other->get(broker_registration_path(1))->data);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->host, "10.0.0.9");
  EXPECT_EQ(reg->port, 1234);
}

// The same failover on a real ZooKeeper (Debian's package): sessions are ZooKeeper sessions.
class zookeeper_cluster_test : public cluster_test {
 protected:
  std::unique_ptr<metadata_store> new_session() override {
    static testing::zookeeper_server server;
    static std::atomic<int> n{0};
    if (_connect.empty()) _connect = fmt::format("{}/cluster-{}-{}", server.connect(), ::getpid(), n++);
    zookeeper_options o;
    o.connect = _connect;
    o.session_timeout_ms = 4000;
    o.connection_timeout_ms = 20000;
    std::string error;
    auto s = zookeeper_store::open(o, &error);
    EXPECT_TRUE(s) << error;
    return s ? std::move(*s) : nullptr;
  }
  std::string _connect;
};

TEST_F(zookeeper_cluster_test, leader_and_controller_failover) {
  start(1), start(2), start(3);
  int32_t first = wait_for_one_controller();
  ASSERT_NE(first, -1);
  create_topic("t", {{1, 2, 3}, {2, 3, 1}, {3, 1, 2}});
  ASSERT_TRUE(all_see(partition_is("t", 0, 1, {1, 2, 3}, 0)));
  ASSERT_TRUE(all_see(partition_is("t", 1, 2, {2, 3, 1}, 0)));
  kill(first);  // closing the ZooKeeper session removes its registration and /controller at once
  int32_t second = wait_for_one_controller();
  ASSERT_NE(second, -1);
  EXPECT_NE(second, first);
  EXPECT_EQ(any_store().get("/controller_epoch")->data, "2");
  ASSERT_TRUE(all_see([&](const metadata_image& img) {
    for (int32_t p = 0; p < 3; ++p) {
      auto* pm = img.find_partition("t", p);
      if (!pm || pm->leader == first || pm->leader == -1 || pm->isr.size() != 2 || pm->leader_epoch != 1) return false;
    }
    return img.brokers.size() == 2;
  }));
}

}  // namespace
}  // namespace sluice::cluster
