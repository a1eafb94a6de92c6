#include "broker/broker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include <asio.hpp>
#include <fmt/format.h>

#include "base/clock.h"
#include "base/logging.h"
#include "cluster/broker_registration.h"
#include "cluster/controller.h"
#include "cluster/controller_duties.h"
#include "cluster/embedded_store.h"
#include "cluster/isr_writer.h"
#include "cluster/metadata_watcher.h"
#include "cluster/zookeeper_store.h"
#include "coordinator/txn/producer_id_manager.h"
#include "net/listener.h"
#include "net/shard_group.h"
#include "server/dispatcher.h"
#include "server/group_coordinator.h"
#include "server/txn_coordinator.h"
#include "server/txn_verifier.h"
#include "server/partition_manager.h"
#include "server/replica_fetcher.h"
#include "server/request_context.h"
#include "storage/file_system.h"
#include "storage/log_config.h"
#include "storage/log_manager.h"

namespace sluice::broker {
namespace {

struct endpoint {
  std::string name;
  std::string host;
  uint16_t port = 0;
};

std::optional<endpoint> parse_listener(const std::string& uri, std::string* error) {
  auto sep = uri.find("://");
  auto colon = uri.rfind(':');
  if (sep == std::string::npos || colon == std::string::npos || colon < sep + 3) {
    *error = fmt::format("'{}' is not NAME://host:port", uri);
    return std::nullopt;
  }
  endpoint e;
  e.name = uri.substr(0, sep);
  e.host = uri.substr(sep + 3, colon - sep - 3);
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  e.port = static_cast<uint16_t>(std::stoi(uri.substr(colon + 1)));
  return e;
}

// Kafka's log dir lock: two brokers on one directory would corrupt it.
std::optional<std::string> lock_log_dir(const std::string& dir, std::vector<int>& fds) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("log dir {}: cannot create: {}", dir, ec.message());
  std::string path = dir + "/.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("log dir {}: cannot open {}: {}", dir, path, std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fmt::format("log dir {} is in use by another process (lock {} held)", dir, path);
  }
  fds.push_back(fd);
  return std::nullopt;
}

std::map<std::string, std::string> explicit_broker_settings(const server::broker_config& c) {
  std::map<std::string, std::string> out;
  for (const auto& d : server::broker_config_definitions())
    if (!c.is_default(d.name)) out[d.name] = *c.get(d.name);
  return out;
}

std::optional<std::string> validate_topic_overrides(const storage::log_config& defaults,
                                                    const std::map<std::string, std::string>& overrides) {
  storage::config_error err;
  if (!storage::apply_topic_overrides(defaults, overrides, &err)) return fmt::format("{}: {}", err.key, err.reason);
  return std::nullopt;
}

}  // namespace

int run_broker(const server::broker_config& config) {
  auto log = log::get("broker");
  auto fail = [](const std::string& msg) {
    std::cerr << "sluice broker: " << msg << "\n";
    return 1;
  };
  std::string error;
  // A client that closes its connection while a response is being written must cost only that
  // connection: sendfile(2) has no MSG_NOSIGNAL, so without this the write raises SIGPIPE and
  // the default action kills the broker. The write then fails with EPIPE and the connection
  // closes.
  std::signal(SIGPIPE, SIG_IGN);

  // Listeners (only PLAINTEXT for now; TLS/SASL listeners are refused rather than served in clear).
  auto listener_uris = config.get_list("listeners");
  if (listener_uris.empty()) return fail("listeners: at least one listener is required");
  std::vector<endpoint> listeners;
  for (const auto& uri : listener_uris) {
    auto e = parse_listener(uri, &error);
    if (!e) return fail("listeners: " + error);
    if (e->name != "PLAINTEXT")
      return fail(fmt::format("listeners: '{}': only PLAINTEXT listeners are supported so far", uri));
    listeners.push_back(*e);
  }
  std::vector<endpoint> advertised;
  for (const auto& uri : config.get_list("advertised.listeners")) {
    auto e = parse_listener(uri, &error);
    if (!e) return fail("advertised.listeners: " + error);
    advertised.push_back(*e);
  }

  // Log dirs, locked.
  auto dirs = config.log_dirs();
  std::vector<int> lock_fds;
  for (const auto& d : dirs)
    if (auto e = lock_log_dir(d, lock_fds)) return fail(*e);

  auto topic_defaults = storage::log_config_from_broker_properties(explicit_broker_settings(config));
  if (!topic_defaults) return fail("log settings: " + topic_defaults.error().message());

  unsigned shard_count = static_cast<unsigned>(config.get_int("sluice.shards"));
  if (shard_count == 0) shard_count = std::max(1u, std::thread::hardware_concurrency());

  // Metadata: with zookeeper.connect a ZooKeeper cluster (cluster mode), else the embedded
  // store in the first log dir (single broker).
  const bool cluster_mode = config.get("zookeeper.connect").has_value();
  std::unique_ptr<cluster::metadata_store> store;
  cluster::zookeeper_store* zk_store = nullptr;
  const int32_t zk_session_timeout_ms = static_cast<int32_t>(config.get_int("zookeeper.session.timeout.ms"));
  if (cluster_mode) {
    cluster::zookeeper_options zo;
    zo.connect = *config.get("zookeeper.connect");
    zo.session_timeout_ms = zk_session_timeout_ms;
    zo.connection_timeout_ms = config.get("zookeeper.connection.timeout.ms")
                                   ? static_cast<int32_t>(config.get_int("zookeeper.connection.timeout.ms"))
                                   : zk_session_timeout_ms;  // Kafka: defaults to the session timeout
    auto zk = cluster::zookeeper_store::open(zo, &error);
    if (!zk) return fail("zookeeper.connect: " + error);
    zk_store = zk->get();
    store = std::move(*zk);
  } else {
    auto embedded = cluster::embedded_store::open(dirs.front(), &error);
    if (!embedded) return fail(error);
    store = std::move(*embedded);
  }

  int32_t broker_id = static_cast<int32_t>(config.get_int("broker.id"));
  net::shard_group shards(shard_count);

  // Bind first: the advertised port of an ephemeral (port 0) listener is the bound one.
  server::data_path_settings settings;
  settings.broker_id = broker_id;
  settings.auto_create_topics = config.get_bool("auto.create.topics.enable");

  server::config_holder config_holder(config);
  std::unique_ptr<cluster::controller> controller;
  std::unique_ptr<cluster::metadata_watcher> watcher;       // cluster mode
  std::unique_ptr<cluster::controller_duties> duties;       // cluster mode
  std::unique_ptr<server::partition_manager> partitions;
  std::unique_ptr<server::broker_services> services;
  std::unique_ptr<server::dispatcher> dispatch;
  std::vector<std::unique_ptr<net::listener>> bound;

  // The dispatcher needs the services, which need the controller, which needs the advertised
  // endpoint, which needs the bound port: bind with a forwarding handler first.
  struct forwarding_handler final : net::frame_handler {
    server::dispatcher* target = nullptr;
    asio::awaitable<net::handler_reply> handle(const net::connection_info& c, std::vector<uint8_t> f) override {
      co_return co_await target->handle(c, std::move(f));
    }
  } forward;

  for (const auto& l : listeners) {
    net::listener_config lc;
    lc.name = l.name;
    lc.host = l.host;
    lc.port = l.port;
    lc.backlog = static_cast<int>(config.get_int("socket.listen.backlog.size"));
    lc.send_buffer_bytes = static_cast<int>(config.get_int("socket.send.buffer.bytes"));
    lc.receive_buffer_bytes = static_cast<int>(config.get_int("socket.receive.buffer.bytes"));
    lc.limits.max_frame_bytes = static_cast<int32_t>(config.get_int("socket.request.max.bytes"));
    lc.limits.max_queued_requests = static_cast<size_t>(std::min<int64_t>(config.get_int("queued.max.requests"), 64));
    lc.limits.idle_timeout_ms = config.get_int("connections.max.idle.ms");
    auto li = std::make_unique<net::listener>(shards, forward, lc);
    if (auto e = li->bind()) return fail(*e);
    bound.push_back(std::move(li));
  }
  endpoint adv = advertised.empty() ? listeners.front() : advertised.front();
  if (adv.port == 0) adv.port = bound.front()->port();
  if (adv.host.empty() || adv.host == "0.0.0.0" || adv.host == "::") {
    char name[256] = {};
    ::gethostname(name, sizeof(name) - 1);
    adv.host = name;
  }

  cluster::controller_defaults cdefaults;
  cdefaults.num_partitions = static_cast<int32_t>(config.get_int("num.partitions"));
  cdefaults.default_replication_factor = static_cast<int16_t>(config.get_int("default.replication.factor"));
  cdefaults.delete_topic_enable = config.get_bool("delete.topic.enable");
  auto defaults_copy = *topic_defaults;
  const cluster::broker_endpoint self{broker_id, adv.host, adv.port, std::nullopt};
  controller = std::make_unique<cluster::controller>(
      *store, broker_id, self, cdefaults,
      [defaults_copy](const std::map<std::string, std::string>& o) { return validate_topic_overrides(defaults_copy, o); });
  if (cluster_mode) {
    // Register (waiting out a previous incarnation's session), watch the store, run for
    // controller. A replaced ZooKeeper session lost all three: redo them.
    if (auto r = cluster::register_broker(*store, self, zk_session_timeout_ms + 2000, &error); !r) return fail(error);
    watcher = std::make_unique<cluster::metadata_watcher>(*store, broker_id);
    if (auto r = watcher->start(&error); !r) return fail(error);
    if (auto r = controller->start_cluster(*watcher, &error); !r) return fail(error);
    cluster::controller_settings cs;
    cs.unclean_leader_election = config.get_bool("unclean.leader.election.enable");
    cs.auto_leader_rebalance = config.get_bool("auto.leader.rebalance.enable");
    cs.leader_imbalance_check_interval_ms = config.get_int("leader.imbalance.check.interval.seconds") * 1000;
    cs.leader_imbalance_per_broker_percentage = static_cast<int32_t>(config.get_int("leader.imbalance.per.broker.percentage"));
    duties = std::make_unique<cluster::controller_duties>(*store, *watcher, broker_id, cs);
    duties->start();
    zk_store->set_session_listener([&store, &watcher, &duties, self, log] {
      std::string why;
      if (auto r = cluster::register_broker(*store, self, 0, &why); !r) log->error("re-registering after a new ZooKeeper session: {}", why);
      watcher->refresh();
      duties->session_replaced();
    });
  } else {
    if (auto r = controller->start(&error); !r) return fail(error);
  }

  // Storage: opening runs recovery of every partition found.
  storage::posix_file_system fs;
  storage::log_manager_config lm_cfg;
  lm_cfg.log_dirs = dirs;
  lm_cfg.default_config = *topic_defaults;
  lm_cfg.retention_check_interval_ms = config.get_int("log.retention.check.interval.ms");
  lm_cfg.flush_scheduler_interval_ms = config.get_int("log.flush.scheduler.interval.ms");
  lm_cfg.producer_id_expiration_ms = config.get_int("producer.id.expiration.ms");
  lm_cfg.producer_id_expiration_check_interval_ms = config.get_int("producer.id.expiration.check.interval.ms");
  lm_cfg.flush_offset_checkpoint_interval_ms = config.get_int("log.flush.offset.checkpoint.interval.ms");
  lm_cfg.flush_start_offset_checkpoint_interval_ms = config.get_int("log.flush.start.offset.checkpoint.interval.ms");
  // Partitions found on disk get their topic's overrides from the metadata store.
  auto startup_image = controller->image();
  auto defaults_for_lookup = *topic_defaults;
  lm_cfg.config_for = [startup_image, defaults_for_lookup](const model::topic_partition& tp) {
    const auto* t = startup_image->find(tp.topic);
    if (!t) return defaults_for_lookup;
    auto c = storage::apply_topic_overrides(defaults_for_lookup, t->configs);
    return c ? *c : defaults_for_lookup;
  };
  auto logs = storage::log_manager::open(lm_cfg, fs, system_clock::instance());
  if (!logs) return fail("cannot open log dirs: " + logs.error().message());

  partitions = std::make_unique<server::partition_manager>(shards, **logs, explicit_broker_settings(config), broker_id);
  // Dynamic broker configs stored by an earlier run apply again.
  for (const auto& [k, v] : controller->image()->broker_dynamic_configs) {
    auto r = config_holder.update([&](server::broker_config& c) { return c.set_dynamic(k, v, &error); });
    if (!r) log->warn("ignoring stored dynamic broker config: {}", error);
  }
  // Cluster mode: followers copy their leaders' logs (one fetch connection per leader broker,
  // on the last shard). Told of every role change by the partitions, from the first image on.
  std::unique_ptr<server::replica_fetcher_manager> fetchers;
  if (cluster_mode) {
    server::replica_fetcher_config fc;
    fc.max_wait_ms = static_cast<int32_t>(config.get_int("replica.fetch.wait.max.ms"));
    fc.min_bytes = static_cast<int32_t>(config.get_int("replica.fetch.min.bytes"));
    fc.partition_max_bytes = static_cast<int32_t>(config.get_int("replica.fetch.max.bytes"));
    fc.response_max_bytes = static_cast<int32_t>(config.get_int("replica.fetch.response.max.bytes"));
    fc.backoff_ms = config.get_int("replica.fetch.backoff.ms");
    fc.socket_timeout_ms = config.get_int("replica.socket.timeout.ms");
    fetchers = std::make_unique<server::replica_fetcher_manager>(*partitions, shards.size() - 1, fc);
    partitions->set_follow_fn([&fetchers](const model::topic_partition& tp, int32_t leader, int32_t epoch) {
      if (leader >= 0) fetchers->follow(tp, leader, epoch);
      else fetchers->unfollow(tp);
    });
  }
  partitions->apply_blocking(controller->image());
  if (watcher) {
    // Cluster mode: every image the watcher builds (leader changes, ISR changes, topics created
    // on other brokers) reaches the shards, posted in publication order to shard 0; applies may
    // interleave at suspension points, so partition_manager::apply must ignore an image older
    // than the one it already applied (image.version; data plane).
    watcher->subscribe([&shards, &partitions](cluster::image_ptr img) {
      asio::co_spawn(shards.context(0), partitions->apply(img), asio::detached);
    });
  }
  // Leaders change their ISR through conditional writes of the partition state node, made on a
  // control-plane thread (never a shard). Single broker: the ISR is always {self}, nothing writes.
  std::unique_ptr<cluster::isr_writer> isr_writes;
  if (cluster_mode) {
    isr_writes = std::make_unique<cluster::isr_writer>(*store);
    partitions->set_isr_write_fn([&isr_writes, broker_id](model::topic_partition tp, int32_t leader_epoch,
                                                         std::vector<int32_t> isr, int32_t partition_epoch,
                                                         std::function<void(bool, int32_t)> done) {
      isr_writes->submit(tp.topic, tp.partition, broker_id, leader_epoch, std::move(isr), partition_epoch,
                         std::move(done));
    });
  }
  coordinator::producer_id_manager producer_ids(*store, broker_id);

  // Declared after `shards`' loops are created and destroyed before them (its timers live there).
  auto groups = std::make_unique<server::group_coordinator>(shards, *partitions, broker_id,
                                                             server::group_config_from(config), system_clock::instance());
  auto txns = std::make_unique<server::txn_coordinator>(shards, *partitions, broker_id, producer_ids,
                                                        server::txn_coordinator_settings_from(config),
                                                        system_clock::instance());
  partitions->set_image_listener([&groups, &txns](const cluster::metadata_image& img) {
    groups->on_image(img);
    txns->on_image(img);
  });
  // A COMMIT/ABORT marker on a __consumer_offsets partition completes or drops the pending
  // transactional offsets of its producer.
  partitions->set_txn_marker_observer([&groups](const model::topic_partition& tp, int64_t producer_id, bool commit) {
    groups->on_txn_marker(tp, producer_id, commit);
  });
  // KIP-890 part 1: the first transactional batch of a producer on a partition must belong to a
  // transaction its coordinator knows added that partition.
  if (config.get_bool("transaction.partition.verification.enable"))
    partitions->set_txn_verifier(server::make_txn_verifier(*txns, *partitions, broker_id));
  services = std::make_unique<server::broker_services>(server::broker_services{
      shards, *controller, *partitions, config_holder, config, settings, system_clock::instance(), producer_ids,
      groups.get(), txns.get()});
  dispatch = std::make_unique<server::dispatcher>(*services);
  forward.target = dispatch.get();

  shards.start();
  groups->start();
  // Group state of every __consumer_offsets partition is rebuilt from its log; requests for a
  // partition still loading get COORDINATOR_LOAD_IN_PROGRESS.
  asio::co_spawn(shards.context(0), groups->load_all(), asio::detached);
  // Likewise the transactional ids of every led __transaction_state partition.
  txns->start();
  asio::co_spawn(shards.context(0), txns->load_all(), asio::detached);
  for (auto& l : bound) l->start_accepting();
  log->info("Sluice broker {} started: listening on {}:{} (advertised {}:{}), {} shards, data in {}", broker_id,
            listeners.front().host.empty() ? "*" : listeners.front().host, bound.front()->port(), adv.host, adv.port,
            shard_count, fmt::join(dirs, ","));

  // Periodic storage tasks (retention, flush scheduler, checkpoints) on each partition's shard.
  asio::io_context main_ctx;
  asio::steady_timer periodic(main_ctx);
  // Named and outliving every call: GCC 12 mishandles temporaries passed to coroutine parameters.
  const std::function<void(server::partition&)> run_log_tasks = [log, &partitions](server::partition& p) {
    if (auto r = p.log().run_periodic(); !r)
      log->warn("periodic flush/retention of {} failed: {}", p.tp(), r.error().message());
    partitions->run_replication_tasks(p);  // acks=all timeouts, ISR shrink/expand
  };
  std::function<void()> schedule = [&] {
    periodic.expires_after(std::chrono::seconds(1));
    periodic.async_wait([&](const asio::error_code& ec) {
      if (ec) return;
      asio::co_spawn(shards.context(0), partitions->for_each_partition(run_log_tasks), asio::detached);
      if (auto r = (*logs)->run_periodic_tasks(); !r)
        log->warn("writing log checkpoints failed: {}", r.error().message());
      schedule();
    });
  };
  schedule();

  asio::signal_set signals(main_ctx, SIGTERM, SIGINT);
  signals.async_wait([&](const asio::error_code&, int sig) {
    log->info("received signal {}, shutting down", sig);
    periodic.cancel();
    main_ctx.stop();
  });
  main_ctx.run();

  // Controlled shutdown (cluster mode): leadership moves to other in-sync replicas before this
  // broker stops serving, so clients fail over without waiting for the session timeout.
  if (cluster_mode && config.get_bool("controlled.shutdown.enable")) {
    if (cluster::controlled_shutdown(*store, *watcher, broker_id, 30'000))
      log->info("controlled shutdown: this broker leads no partition another in-sync replica could lead");
    else
      log->warn("controlled shutdown: leadership did not move within 30 s; stopping anyway");
  }
  if (zk_store) zk_store->set_session_listener(nullptr);  // it refers to the objects stopped next
  if (duties) duties->stop();
  if (watcher) watcher->stop();  // no image reaches the partitions from here on
  if (fetchers) fetchers->stop();

  // Graceful shutdown: stop accepting, let in-flight requests finish (bounded), then stop the
  // loops, flush every log and write the clean-shutdown marker.
  for (auto& l : bound) l->stop_accepting();
  // In-flight requests finish (a long-polling Fetch waits at most its max_wait_ms); bounded so a
  // stuck client cannot hold the shutdown.
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (dispatch->in_flight() > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  shards.stop();
  if (auto r = (*logs)->shutdown(); !r) {
    log->error("shutdown: flushing logs failed: {}", r.error().message());
    return 1;
  }
  log->info("Sluice broker {} stopped cleanly", broker_id);
  return 0;
}

}  // namespace sluice::broker
