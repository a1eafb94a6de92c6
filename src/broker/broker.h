#pragma once
// A running broker: wires config, storage, the metadata store and controller, the shards, the
// listeners and the request dispatcher. The only module that knows all the others.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "server/broker_config.h"

namespace sluice::broker {

// Runs a broker until SIGTERM/SIGINT; returns the process exit status. Startup problems (bad
// config, unusable log dir, port in use) are printed to stderr naming the problem, status 1.
int run_broker(const server::broker_config& config);

}  // namespace sluice::broker
