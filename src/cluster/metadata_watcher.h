#pragma once
// metadata_watcher: every cluster broker's view of the metadata store as a metadata_image.
//
// It reads the whole tree it needs (cluster id, /controller, /brokers/ids/*, /brokers/topics/*
// with partition states, /config/topics/*, /config/brokers/<self>) setting one-shot watches on
// everything read. Any watch firing (or a session_lost) marks the view dirty and wakes the
// watcher's own thread, which reads everything again and publishes the new image. An image is
// published only from a read during which no watch fired, so subscribers never see a half-read
// mix of old and new state (a read that saw a change is repeated).
//
// Thread contract: image()/subscribe()/wait_for() are thread-safe; subscribers run on the
// watcher thread (they must not block for long; partition_manager::apply posts to shards).
//
// Lifetime: the store's watch callbacks may run after this watcher is gone (a store runs a fired
// callback outside its lock, on whichever thread made the change or on ZooKeeper's event thread,
// and the watches of a destroyed watcher stay pending in a live session). So they do not point
// at the watcher: they share ownership of the small block they touch (wake_state). A subscriber
// that may die before the watcher unsubscribes first.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/metadata_image.h"
#include "cluster/metadata_store.h"

namespace sluice::cluster {

class metadata_watcher {
 public:
  metadata_watcher(metadata_store& store, int32_t self_id);
  ~metadata_watcher();
  metadata_watcher(const metadata_watcher&) = delete;
  metadata_watcher& operator=(const metadata_watcher&) = delete;

  // Reads and publishes the first image (blocking), then starts the watch thread.
  result<void> start(std::string* error);
  void stop();

  image_ptr image() const;
  using subscription = int64_t;
  // fn gets the current image at once (if any), then every new one.
  subscription subscribe(std::function<void(image_ptr)> fn);
  // Once this returns, the subscriber is not running and is never called again, so its owner
  // may be destroyed. Must not be called from a subscriber (it waits for a publish to finish).
  void unsubscribe(subscription id);
  // Waits (bounded) until pred holds for the current image; returns whether it did.
  bool wait_for(const std::function<bool(const metadata_image&)>& pred, int64_t timeout_ms) const;
  // Forces a full re-read (e.g. after a ZooKeeper session was replaced).
  void refresh();

 private:
  result<std::shared_ptr<metadata_image>> read_image();
  result<node> watched_get(const std::string& path);
  result<std::vector<std::string>> watched_children(const std::string& path);
  watch_fn on_change(bool data, std::string path);
  void publish(std::shared_ptr<metadata_image> next);
  void run();

  // Everything a store watch callback touches (see Lifetime above), shared with the callbacks.
  struct wake_state {
    std::mutex mu;  // also guards the watcher's own fields below
    std::condition_variable cv;
    bool dirty = false;
    // Paths with a pending watch (one per path is enough; avoids piling up watches).
    std::set<std::string> data_watched;
    std::set<std::string> child_watched;
  };

  metadata_store& _store;
  const int32_t _self_id;

  const std::shared_ptr<wake_state> _state = std::make_shared<wake_state>();
  std::mutex& _mu = _state->mu;
  std::condition_variable& _cv = _state->cv;
  bool _stopping = false;
  image_ptr _image;
  subscription _next_subscription = 1;
  std::vector<std::pair<subscription, std::function<void(image_ptr)>>> _subscribers;
  bool _publishing = false;  // subscribers are being called (without _mu)
  std::thread _thread;
};

}  // namespace sluice::cluster
