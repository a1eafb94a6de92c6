#include "storage/log_manager.h"

#include <random>

#include <fmt/format.h>

#include "storage/checkpoint_file.h"
#include "storage/errc.h"
#include "storage/logger.h"

namespace sluice::storage {

namespace {
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

std::string delete_dir_name(const model::topic_partition& tp) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::string suffix = fmt::format("-{}.{:016x}{:016x}-delete", tp.partition, rng(), rng());
  size_t keep = std::min(tp.topic.size(), 255 - suffix.size());
  return tp.topic.substr(0, keep) + suffix;
}

log_manager::~log_manager() = default;

log_options log_manager::options_for(const std::string& dir, const model::topic_partition& tp,
                                     const log_config& cfg) const {
  log_options o;
  o.fs = &_fs;
  o.clock = &_clock;
  o.dir = dir + "/" + partition_dir_name(tp);
  o.tp = tp;
  o.config = cfg;
  o.retention_check_interval_ms = _cfg.retention_check_interval_ms;
  o.flush_scheduler_interval_ms = _cfg.flush_scheduler_interval_ms;
  o.producer_id_expiration_ms = _cfg.producer_id_expiration_ms;
  o.producer_id_expiration_check_interval_ms = _cfg.producer_id_expiration_check_interval_ms;
  return o;
}

result<std::unique_ptr<log_manager>> log_manager::open(const log_manager_config& cfg, file_system& fs,
                                                       sluice::clock& clock) {
  if (cfg.log_dirs.empty()) return errc::invalid_argument;
  std::unique_ptr<log_manager> m(new log_manager(cfg, fs, clock));
  int64_t now = clock.monotonic_ms();
  m->_next_recovery_checkpoint_ms = now + cfg.flush_offset_checkpoint_interval_ms;
  m->_next_start_checkpoint_ms = now + cfg.flush_start_offset_checkpoint_interval_ms;
  for (auto& d : cfg.log_dirs)
    if (auto r = m->load_dir(d); !r) return r.error();
  return m;
}

result<void> log_manager::load_dir(const std::string& dir) {
  if (auto r = _fs.mkdirs(dir); !r) return r;
  std::string marker = dir + "/" + clean_shutdown_marker_name;
  bool clean = _fs.exists(marker);
  auto read_map = [&](const char* name) -> offset_map {
    auto m = read_offset_checkpoint(_fs, dir + "/" + name);
    if (m) return *m;
    logger().warn("{}/{} unreadable ({}); ignoring it", dir, name, m.error().message());
    return {};
  };
  offset_map recovery_points = read_map(recovery_point_checkpoint_name);
  offset_map start_offsets = read_map(log_start_offset_checkpoint_name);
  offset_map hws = read_map(replication_offset_checkpoint_name);
  auto entries = _fs.list_dir(dir);
  if (!entries) return entries.error();
  int64_t now = _clock.monotonic_ms();
  for (auto& e : *entries) {
    if (!e.is_dir) continue;
    if (ends_with(e.name, "-delete")) {
      _dir_deletes.push_back({now, dir + "/" + e.name});  // finish an interrupted delete
      continue;
    }
    if (ends_with(e.name, "-future") || ends_with(e.name, "-stray")) {
      logger().warn("{}: ignoring directory {}", dir, e.name);
      continue;
    }
    auto tp = parse_partition_dir_name(e.name);
    if (!tp) {
      logger().warn("{}: {} is not a <topic>-<partition> directory; ignoring it", dir, e.name);
      continue;
    }
    if (_logs.count(*tp)) {
      logger().error("{}: duplicate log directories for {}", dir, *tp);
      return errc::already_exists;
    }
    log_config lc = _cfg.config_for ? _cfg.config_for(*tp) : _cfg.default_config;
    log_options o = options_for(dir, *tp, lc);
    auto find = [&](const offset_map& m, int64_t dflt) {
      auto it = m.find(*tp);
      return it == m.end() ? dflt : it->second;
    };
    o.recovery_point = find(recovery_points, 0);
    o.log_start_offset = find(start_offsets, -1);
    o.high_watermark = find(hws, -1);
    o.clean_shutdown = clean;
    auto l = log::open(o);
    if (!l) {
      logger().error("{}: cannot load log {}: {}", dir, *tp, l.error().message());
      return l.error();
    }
    _logs.emplace(*tp, entry{dir, std::move(*l)});
  }
  // Consumed: a crash from now on must trigger recovery.
  if (clean) {
    if (auto r = _fs.unlink(marker); !r) return r;
    if (auto r = _fs.fsync_dir(dir); !r) return r;
  }
  logger().info("{}: loaded {} log(s) after {} shutdown", dir, _logs.size(), clean ? "a clean" : "an unclean");
  return ok();
}

result<log*> log_manager::create(const model::topic_partition& tp, const log_config& cfg) {
  if (!model::is_valid_topic_name(tp.topic) || tp.partition < 0) return errc::invalid_argument;
  std::lock_guard g(_mu);
  if (_logs.count(tp)) return errc::already_exists;
  std::map<std::string, size_t> counts;
  for (auto& d : _cfg.log_dirs) counts[d] = 0;
  for (auto& [k, e] : _logs) ++counts[e.log_dir];
  std::string dir = _cfg.log_dirs.front();
  for (auto& d : _cfg.log_dirs)
    if (counts[d] < counts[dir]) dir = d;
  auto l = log::open(options_for(dir, tp, cfg));
  if (!l) return l.error();
  if (auto r = _fs.fsync_dir(dir); !r) return r.error();
  log* p = l->get();
  _logs.emplace(tp, entry{dir, std::move(*l)});
  return p;
}

log* log_manager::get(const model::topic_partition& tp) const {
  std::lock_guard g(_mu);
  auto it = _logs.find(tp);
  return it == _logs.end() ? nullptr : it->second.l.get();
}

result<void> log_manager::remove(const model::topic_partition& tp) {
  std::lock_guard g(_mu);
  auto it = _logs.find(tp);
  if (it == _logs.end()) return errc::not_found;
  std::string from = it->second.l->dir();
  std::string to = it->second.log_dir + "/" + delete_dir_name(tp);
  if (auto r = _fs.rename(from, to); !r) return r;
  if (auto r = _fs.fsync_dir(it->second.log_dir); !r) return r;
  int64_t delay = it->second.l->config().file_delete_delay_ms;
  _logs.erase(it);
  _dir_deletes.push_back({_clock.monotonic_ms() + delay, to});
  logger().info("{}: renamed to {} for deletion", tp, to);
  return ok();
}

std::vector<model::topic_partition> log_manager::partitions() const {
  std::lock_guard g(_mu);
  std::vector<model::topic_partition> v;
  for (auto& [tp, e] : _logs) v.push_back(tp);
  return v;
}

size_t log_manager::pending_dir_deletes() const {
  std::lock_guard g(_mu);
  return _dir_deletes.size();
}

result<void> log_manager::write_checkpoints(bool recovery, bool start, bool hw) {
  // Caller holds _mu.
  std::map<std::string, offset_map> rp, so, hwm;
  for (auto& d : _cfg.log_dirs) rp[d], so[d], hwm[d];
  for (auto& [tp, e] : _logs) {
    rp[e.log_dir][tp] = e.l->recovery_point();
    so[e.log_dir][tp] = e.l->log_start_offset();
    hwm[e.log_dir][tp] = e.l->high_watermark();
  }
  result<void> first_error = ok();
  auto write = [&](const std::string& dir, const char* name, const offset_map& m) {
    if (auto r = write_offset_checkpoint(_fs, dir + "/" + name, m); !r) {
      logger().error("{}/{}: checkpoint write failed: {}", dir, name, r.error().message());
      if (first_error) first_error = r;
    }
  };
  for (auto& d : _cfg.log_dirs) {
    if (recovery) write(d, recovery_point_checkpoint_name, rp[d]);
    if (start) write(d, log_start_offset_checkpoint_name, so[d]);
    if (hw) write(d, replication_offset_checkpoint_name, hwm[d]);
  }
  return first_error;
}

result<void> log_manager::checkpoint_all() {
  std::lock_guard g(_mu);
  return write_checkpoints(true, true, true);
}

result<void> log_manager::run_periodic_tasks(bool include_logs) {
  std::lock_guard g(_mu);
  result<void> res = ok();
  if (include_logs) {
    for (auto& [tp, e] : _logs)
      if (auto r = e.l->run_periodic(); !r && res) res = r;
  }
  int64_t now = _clock.monotonic_ms();
  bool rp = now >= _next_recovery_checkpoint_ms, so = now >= _next_start_checkpoint_ms;
  if (rp) _next_recovery_checkpoint_ms = now + _cfg.flush_offset_checkpoint_interval_ms;
  if (so) _next_start_checkpoint_ms = now + _cfg.flush_start_offset_checkpoint_interval_ms;
  if (rp || so)
    if (auto r = write_checkpoints(rp, so, rp); !r && res) res = r;
  std::erase_if(_dir_deletes, [&](const dir_delete& d) {
    if (d.due_mono_ms > now) return false;
    if (auto r = _fs.remove_all(d.path); !r) {
      logger().warn("cannot remove {}: {}", d.path, r.error().message());
      return false;
    }
    logger().info("removed {}", d.path);
    return true;
  });
  return res;
}

result<void> log_manager::shutdown() {
  std::lock_guard g(_mu);
  std::map<std::string, bool> dir_clean;
  for (auto& d : _cfg.log_dirs) dir_clean[d] = true;
  for (auto& [tp, e] : _logs) {
    if (auto r = e.l->close(); !r) {
      logger().error("{}: close failed: {}", tp, r.error().message());
      dir_clean[e.log_dir] = false;
    }
  }
  auto res = write_checkpoints(true, true, true);
  if (!res) return res;
  for (auto& [d, clean] : dir_clean) {
    if (!clean) continue;
    auto f = _fs.open(d + "/" + clean_shutdown_marker_name, open_mode::create);
    if (!f) return f.error();
    if (auto r = (*f)->fsync(); !r) return r;
    if (auto r = _fs.fsync_dir(d); !r) return r;
  }
  logger().info("log manager shut down ({} logs)", _logs.size());
  return ok();
}

}  // namespace sluice::storage
