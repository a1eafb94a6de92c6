// One behaviour for both metadata stores: every test runs against the embedded store and against
// a real ZooKeeper server (Debian's package, started once for this test binary).
#include <zookeeper/zookeeper.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "cluster/embedded_store.h"
#include "cluster/testing/zookeeper_server.h"
#include "cluster/zookeeper_store.h"

namespace sluice::cluster {
namespace {

testing::zookeeper_server& shared_zookeeper() {
  static testing::zookeeper_server server;  // started on first use, stopped at exit
  return server;
}

// Each test gets a fresh namespace: a new in-memory store, or a new chroot on the shared server.
std::unique_ptr<metadata_store> make_zookeeper_store(std::string* connect_out = nullptr) {
  static std::atomic<int> n{0};
  zookeeper_options o;
  o.connect = fmt::format("{}/test-{}-{}", shared_zookeeper().connect(), ::getpid(), n++);
  o.session_timeout_ms = 4000;
  o.connection_timeout_ms = 20000;
  if (connect_out) *connect_out = o.connect;
  std::string error;
  auto s = zookeeper_store::open(o, &error);
  EXPECT_TRUE(s) << error;
  return s ? std::move(*s) : nullptr;
}

// Collects watch events; waits for them (ZooKeeper delivers them asynchronously).
struct event_log {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<watch_event, std::string>> events;

  watch_fn fn() {
    return [this](watch_event e, const std::string& path) {
      std::lock_guard g(mu);
      events.emplace_back(e, path);
      cv.notify_all();
    };
  }
  bool wait_for_count(size_t count, std::chrono::milliseconds within = std::chrono::seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, within, [&] { return events.size() >= count; });
  }
  size_t size() {
    std::lock_guard g(mu);
    return events.size();
  }
};

enum class kind { embedded, zookeeper };

class metadata_store_test : public ::testing::TestWithParam<kind> {
 protected:
  void SetUp() override {
    if (GetParam() == kind::embedded) {
      _store = embedded_store::in_memory();
    } else {
      _store = make_zookeeper_store(&_connect);
      ASSERT_NE(_store, nullptr);
    }
  }
  metadata_store& store() { return *_store; }
  // Another independent session on the same tree (a second "broker").
  std::unique_ptr<metadata_store> second_session() {
    if (GetParam() == kind::embedded) return static_cast<embedded_store&>(*_store).open_session();
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
  // A short grace period to show that no (further) event arrives.
  static void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

  std::unique_ptr<metadata_store> _store;
};

std::error_code err(store_errc e) { return make_error_code(e); }

TEST_P(metadata_store_test, versions_and_compare_and_set) {
  ASSERT_TRUE(store().create("/a", "x", false, true));
  auto n = store().get("/a");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->data, "x");
  EXPECT_EQ(n->version, 0);
  auto v = store().set("/a", "y", 0);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 1);
  EXPECT_EQ(store().set("/a", "z", 0).error(), err(store_errc::bad_version));
  EXPECT_EQ(store().get("/a")->data, "y");
  EXPECT_EQ(*store().set("/a", "w", -1), 2);
  EXPECT_EQ(store().get("/a")->data, "w");
}

TEST_P(metadata_store_test, missing_and_existing_nodes) {
  EXPECT_EQ(store().get("/nope").error(), err(store_errc::no_node));
  EXPECT_EQ(store().set("/nope", "x", -1).error(), err(store_errc::no_node));
  EXPECT_EQ(store().remove("/nope", -1, false).error(), err(store_errc::no_node));
  ASSERT_TRUE(store().create("/a", "", false, true));
  EXPECT_EQ(store().create("/a", "again", false, true).error(), err(store_errc::node_exists));
  EXPECT_EQ(store().create("/x/y", "", false, false).error(), err(store_errc::no_parent));
}

TEST_P(metadata_store_test, parents_children_and_empty_data) {
  ASSERT_TRUE(store().create("/brokers/topics/t/partitions/0/state", "{}", false, true));
  auto parent = store().get("/brokers/topics/t");
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->data, "");
  ASSERT_TRUE(store().create("/brokers/topics/c", "", false, true));
  ASSERT_TRUE(store().create("/brokers/topics/b", "", false, true));
  auto kids = store().children("/brokers/topics");
  ASSERT_TRUE(kids);
  EXPECT_EQ(*kids, (std::vector<std::string>{"b", "c", "t"}));
  EXPECT_EQ(store().children("/missing").error(), err(store_errc::no_node));
}

TEST_P(metadata_store_test, large_node_data) {
  std::string big(300 * 1024, 'q');
  big[12345] = '\0';  // binary-safe
  ASSERT_TRUE(store().create("/big", big, false, true));
  EXPECT_EQ(store().get("/big")->data, big);
}

TEST_P(metadata_store_test, remove_plain_recursive_and_versioned) {
  ASSERT_TRUE(store().create("/t/a/b", "", false, true));
  ASSERT_TRUE(store().create("/t/c", "", false, true));
  EXPECT_EQ(store().remove("/t", -1, false).error(), err(store_errc::not_empty));
  ASSERT_TRUE(store().set("/t/c", "1", -1));
  EXPECT_EQ(store().remove("/t/c", 0, false).error(), err(store_errc::bad_version));
  ASSERT_TRUE(store().remove("/t/c", 1, false));
  ASSERT_TRUE(store().remove("/t", -1, true));
  EXPECT_EQ(store().get("/t/a/b").error(), err(store_errc::no_node));
  EXPECT_EQ(store().get("/t").error(), err(store_errc::no_node));
}

TEST_P(metadata_store_test, data_watch_fires_once_per_set) {
  ASSERT_TRUE(store().create("/w", "0", false, true));
  event_log log;
  auto n = store().get_and_watch("/w", log.fn());
  ASSERT_TRUE(n);
  EXPECT_EQ(n->data, "0");
  ASSERT_TRUE(store().set("/w", "1", -1));
  ASSERT_TRUE(log.wait_for_count(1));
  ASSERT_TRUE(store().set("/w", "2", -1));  // one-shot: not watched any more
  settle();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.events[0].first, watch_event::data_changed);
}

TEST_P(metadata_store_test, data_watch_sees_deletion_and_creation) {
  ASSERT_TRUE(store().create("/w", "", false, true));
  event_log deleted;
  ASSERT_TRUE(store().get_and_watch("/w", deleted.fn()));
  ASSERT_TRUE(store().remove("/w", -1, false));
  ASSERT_TRUE(deleted.wait_for_count(1));
  EXPECT_EQ(deleted.events[0].first, watch_event::deleted);

  event_log created;
  EXPECT_EQ(store().get_and_watch("/w", created.fn()).error(), err(store_errc::no_node));
  ASSERT_TRUE(store().create("/w", "back", false, true));
  ASSERT_TRUE(created.wait_for_count(1));
  EXPECT_EQ(created.events[0].first, watch_event::created);
}

TEST_P(metadata_store_test, children_watch_fires_on_child_creation_and_removal) {
  ASSERT_TRUE(store().create("/ids", "", false, true));
  event_log added;
  auto kids = store().children_and_watch("/ids", added.fn());
  ASSERT_TRUE(kids);
  EXPECT_TRUE(kids->empty());
  ASSERT_TRUE(store().set("/ids", "data changes are not child changes", -1));
  ASSERT_TRUE(store().create("/ids/1", "", true, true));
  ASSERT_TRUE(added.wait_for_count(1));
  EXPECT_EQ(added.events[0].first, watch_event::children_changed);

  event_log removed;
  EXPECT_EQ(*store().children_and_watch("/ids", removed.fn()), std::vector<std::string>{"1"});
  ASSERT_TRUE(store().remove("/ids/1", -1, false));
  ASSERT_TRUE(removed.wait_for_count(1));
  EXPECT_EQ(removed.events[0].first, watch_event::children_changed);
  EXPECT_EQ(store().children_and_watch("/missing", removed.fn()).error(), err(store_errc::no_node));
}

TEST_P(metadata_store_test, multi_applies_all_ops_or_none) {
  ASSERT_TRUE(store().create("/controller_epoch", "1", false, true));
  ASSERT_TRUE(store().create("/p/state", "s0", false, true));
  ASSERT_TRUE(store().create("/gone", "", false, true));
  event_log events;
  ASSERT_TRUE(store().get_and_watch("/p/state", events.fn()));
  // A stale fence: nothing is applied, no watch fires.
  auto stale = store().multi({store_op::check("/controller_epoch", 7), store_op::set("/p/state", "s1", 0),
                              store_op::create("/p/new", "n"), store_op::remove("/gone")});
  EXPECT_EQ(stale.error(), err(store_errc::bad_version));
  EXPECT_EQ(store().get("/p/state")->data, "s0");
  EXPECT_EQ(store().get("/p/new").error(), err(store_errc::no_node));
  EXPECT_TRUE(store().get("/gone"));
  settle();
  EXPECT_EQ(events.size(), 0u);
  // A failing op after successful ones undoes them too.
  auto late = store().multi({store_op::set("/p/state", "s1", 0), store_op::create("/missing/x", "")});
  EXPECT_EQ(late.error(), err(store_errc::no_parent));
  EXPECT_EQ(store().get("/p/state")->data, "s0");
  // The current fence: everything is applied at once.
  ASSERT_TRUE(store().multi({store_op::check("/controller_epoch", 0), store_op::set("/p/state", "s1", 0),
                             store_op::create("/p/new", "n"), store_op::remove("/gone")}));
  EXPECT_EQ(store().get("/p/state")->data, "s1");
  EXPECT_EQ(store().get("/p/state")->version, 1);
  EXPECT_EQ(store().get("/p/new")->data, "n");
  EXPECT_EQ(store().get("/gone").error(), err(store_errc::no_node));
  ASSERT_TRUE(events.wait_for_count(1));
  EXPECT_EQ(events.events[0].first, watch_event::data_changed);
  EXPECT_EQ(store().multi({store_op::create("/p/new", "again")}).error(), err(store_errc::node_exists));
  EXPECT_EQ(store().multi({store_op::check("/nope", -1)}).error(), err(store_errc::no_node));
}

TEST_P(metadata_store_test, closing_a_session_removes_its_ephemeral_nodes_for_others) {
  auto other = second_session();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store().create("/brokers/ids/1", "one", true, true));
  ASSERT_TRUE(other->create("/brokers/ids/2", "two", true, true));
  EXPECT_EQ(*store().children("/brokers/ids"), (std::vector<std::string>{"1", "2"}));
  event_log events;
  ASSERT_TRUE(store().get_and_watch("/brokers/ids/2", events.fn()));
  other.reset();  // the second broker dies
  ASSERT_TRUE(events.wait_for_count(1));
  EXPECT_EQ(events.events[0].first, watch_event::deleted);
  EXPECT_EQ(*store().children("/brokers/ids"), (std::vector<std::string>{"1"}));
  EXPECT_EQ(store().get("/brokers/ids/1")->data, "one");
}

INSTANTIATE_TEST_SUITE_P(both, metadata_store_test, ::testing::Values(kind::embedded, kind::zookeeper),
                         [](const auto& info) { return info.param == kind::embedded ? "embedded" : "zookeeper"; });

// --- ZooKeeper sessions ------------------------------------------------------------------------

TEST(embedded_store, expired_session_fails_its_calls_and_fires_its_watches) {
  auto store = embedded_store::in_memory();
  auto s = store->open_session();
  ASSERT_TRUE(s->create("/controller", "x", true, true));
  event_log own;
  ASSERT_TRUE(s->get_and_watch("/other", own.fn()).error() == make_error_code(store_errc::no_node));
  s->expire();
  ASSERT_TRUE(own.wait_for_count(1));
  EXPECT_EQ(own.events[0].first, watch_event::session_lost);
  EXPECT_EQ(store->get("/controller").error(), make_error_code(store_errc::no_node));
  EXPECT_EQ(s->create("/controller", "x", true, true).error(), make_error_code(store_errc::connection_loss));
  EXPECT_EQ(s->get("/").error(), make_error_code(store_errc::connection_loss));
  // Creating /other now fires no watch of the dead session a second time.
  ASSERT_TRUE(store->create("/other", "", false, true));
  EXPECT_EQ(own.size(), 1u);
}

TEST(zookeeper_store, ephemeral_nodes_end_with_the_session) {
  std::string connect;
  auto owner = make_zookeeper_store(&connect);
  ASSERT_NE(owner, nullptr);
  ASSERT_TRUE(owner->create("/brokers/ids/1", "{\"host\":\"127.0.0.1\"}", true, true));
  zookeeper_options o;
  o.connect = connect;
  std::string error;
  auto observer = zookeeper_store::open(o, &error);
  ASSERT_TRUE(observer) << error;
  event_log log;
  ASSERT_TRUE((*observer)->get_and_watch("/brokers/ids/1", log.fn()));
  owner.reset();  // closes the session
  ASSERT_TRUE(log.wait_for_count(1));
  EXPECT_EQ(log.events[0].first, watch_event::deleted);
  EXPECT_EQ((*observer)->get("/brokers/ids/1").error(), err(store_errc::no_node));
  EXPECT_TRUE((*observer)->get("/brokers/ids"));  // the persistent parent stays
}

// Another client that joins the store's session and closes it expires that session, as a long
// network partition would. The store must notice, fire its watches with session_lost, open a
// new session and tell its listener, so the owner can re-register its ephemeral nodes.
TEST(zookeeper_store, expired_session_is_replaced_and_reported) {
  std::string connect;
  auto owned = make_zookeeper_store(&connect);
  ASSERT_NE(owned, nullptr);
  auto& zk = static_cast<zookeeper_store&>(*owned);
  ASSERT_TRUE(zk.create("/brokers/ids/7", "", true, true));
  ASSERT_TRUE(zk.create("/watched", "", false, true));
  event_log watch;
  ASSERT_TRUE(zk.get_and_watch("/watched", watch.fn()));
  std::mutex mu;
  std::condition_variable cv;
  int new_sessions = 0;
  zk.set_session_listener([&] {
    std::lock_guard g(mu);
    ++new_sessions;
    cv.notify_all();
  });
  const int64_t old_session = zk.session_id();

  clientid_t id{};
  id.client_id = old_session;
  auto password = zk.session_password();
  std::memcpy(id.passwd, password.data(), sizeof(id.passwd));
  std::atomic<bool> joined{false};
  zhandle_t* intruder = zookeeper_init(
      connect.c_str(),
      [](zhandle_t*, int type, int state, const char*, void* ctx) {
        if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) static_cast<std::atomic<bool>*>(ctx)->store(true);
      },
      4000, &id, &joined, 0);
  ASSERT_NE(intruder, nullptr);
  for (int i = 0; i < 200 && !joined; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(joined);
  zookeeper_close(intruder);  // ends the shared session

  ASSERT_TRUE(watch.wait_for_count(1, std::chrono::seconds(30)));
  EXPECT_EQ(watch.events[0].first, watch_event::session_lost);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return new_sessions == 1; }));
  }
  EXPECT_NE(zk.session_id(), old_session);
  EXPECT_EQ(zk.get("/brokers/ids/7").error(), err(store_errc::no_node));  // died with the old session
  ASSERT_TRUE(zk.create("/brokers/ids/7", "", true, true));                // re-registration works
  EXPECT_TRUE(zk.get("/watched"));
}

TEST(zookeeper_store, unreachable_server_is_a_clear_error) {
  zookeeper_options o;
  o.connect = "127.0.0.1:1";  // nothing listens on port 1
  o.connection_timeout_ms = 1500;
  std::string error;
  auto s = zookeeper_store::open(o, &error);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), err(store_errc::connection_loss));
  EXPECT_NE(error.find("could not connect to ZooKeeper at 127.0.0.1:1 within 1500 ms"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::cluster
