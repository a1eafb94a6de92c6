#pragma once
// A standalone ZooKeeper server (Debian's `zookeeper` package) for tests: its own data directory
// and a free loopback port. The server dies with the test process (PR_SET_PDEATHSIG), so a
// crashed test leaves nothing running.
#include <sys/types.h>

#include <string>

namespace sluice::cluster::testing {

class zookeeper_server {
 public:
  // Starts the server and waits until it answers "ruok". Aborts the test run (SLUICE_ASSERT) if
  // Java or ZooKeeper is missing or it does not come up within 60 s.
  zookeeper_server();
  ~zookeeper_server();
  zookeeper_server(const zookeeper_server&) = delete;
  zookeeper_server& operator=(const zookeeper_server&) = delete;

  // "127.0.0.1:<port>"
  std::string connect() const;
  int port() const { return _port; }

 private:
  std::string _dir;
  int _port = 0;
  pid_t _pid = -1;
};

}  // namespace sluice::cluster::testing
