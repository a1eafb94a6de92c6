#pragma once
// Shard-per-core event loops (DESIGN.md §2). Each shard is one thread running one
// asio::io_context; state owned by a shard is touched only on that shard's thread, and work for
// another shard hops there by message passing (invoke_on), never by locking.
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include <asio.hpp>

namespace sluice::net {

using shard_id = unsigned;

class shard_group {
 public:
  explicit shard_group(unsigned count);
  ~shard_group();
  shard_group(const shard_group&) = delete;
  shard_group& operator=(const shard_group&) = delete;

  unsigned size() const { return static_cast<unsigned>(_contexts.size()); }
  asio::io_context& context(shard_id s) { return *_contexts[s]; }

  // Starts one thread per shard. Shard threads run until stop().
  void start();
  // Stops every loop and joins the threads. Idempotent.
  void stop();

  // The shard whose thread is calling, or size() when called from outside any shard.
  shard_id current() const;

  // Runs coroutine `f` on shard `s` and resumes the caller on its own executor with the result.
  // `f` must capture only trivially destructible things (references, pointers, spans, ids):
  // GCC 12 can destroy a lambda passed to a coroutine twice, which is harmless only then. Keep
  // owned state in the caller's frame and capture a reference to it.
  template <typename F>
  auto invoke_on(shard_id s, F f) -> std::invoke_result_t<F> {
    static_assert(std::is_trivially_destructible_v<F>,
                  "invoke_on: capture references, not owning objects (GCC 12 coroutine double destroy)");
    co_return co_await asio::co_spawn(context(s), std::move(f), asio::use_awaitable);
  }

  // Fire-and-forget: runs `fn` on shard `s` (posted, never inline).
  void post(shard_id s, std::function<void()> fn) { asio::post(context(s), std::move(fn)); }

 private:
  std::vector<std::unique_ptr<asio::io_context>> _contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> _guards;
  std::vector<std::thread> _threads;
};

}  // namespace sluice::net
