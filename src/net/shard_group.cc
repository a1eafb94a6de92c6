#include "net/shard_group.h"

#include <pthread.h>

#include "base/assert.h"
#include "base/logging.h"

namespace sluice::net {
namespace {
thread_local shard_id t_current_shard = ~0u;
}

shard_group::shard_group(unsigned count) {
  SLUICE_ASSERT(count > 0, "a shard group needs at least one shard");
  for (unsigned i = 0; i < count; ++i) {
    _contexts.push_back(std::make_unique<asio::io_context>(1));
    _guards.emplace_back(asio::make_work_guard(*_contexts.back()));
  }
}

shard_group::~shard_group() { stop(); }

void shard_group::start() {
  for (unsigned i = 0; i < _contexts.size(); ++i) {
    _threads.emplace_back([this, i] {
      t_current_shard = i;
      std::string name = "shard-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      for (;;) {
        try {
          _contexts[i]->run();
          break;
        } catch (const std::exception& e) {
          // A handler let an exception escape: that is a bug, but one request must not take the
          // broker down. Log and keep the loop running.
          log::get("net")->error("shard {}: unhandled exception: {}", i, e.what());
        }
      }
    });
  }
}

void shard_group::stop() {
  for (auto& g : _guards) g.reset();
  for (auto& c : _contexts) c->stop();
  for (auto& t : _threads)
    if (t.joinable()) t.join();
  _threads.clear();
}

shard_id shard_group::current() const { return t_current_shard == ~0u ? size() : t_current_shard; }

}  // namespace sluice::net
