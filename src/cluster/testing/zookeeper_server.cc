#include "cluster/testing/zookeeper_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "base/assert.h"

namespace sluice::cluster::testing {
namespace {

// Debian's zookeeper package: /etc/zookeeper/conf/environment sets this class path.
constexpr const char* class_path = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  SLUICE_ASSERT(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  SLUICE_ASSERT(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// ZooKeeper's "ruok" four-letter command answers "imok" once the server serves clients.
bool answers_ruok(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::write(fd, "ruok", 4) == 4) {
    char buf[8] = {};
    ok = ::read(fd, buf, 4) == 4 && std::string(buf, 4) == "imok";
  }
  ::close(fd);
  return ok;
}

}  // namespace

zookeeper_server::zookeeper_server() {
  char tmpl[] = "/tmp/sluice-zk-XXXXXX";
  SLUICE_ASSERT(::mkdtemp(tmpl) != nullptr);
  _dir = tmpl;
  _port = free_port();
  {
    std::ofstream cfg(_dir + "/zoo.cfg");
    cfg << "tickTime=500\n"  // sessions of 1-10 s, so expiry tests are quick
        << "dataDir=" << _dir << "/data\n"
        << "clientPort=" << _port << "\n"
        << "clientPortAddress=127.0.0.1\n"
        << "admin.enableServer=false\n"
        << "4lw.commands.whitelist=ruok\n";
  }
  std::string cfg_path = _dir + "/zoo.cfg";
  std::string log_path = _dir + "/zookeeper.log";
  _pid = ::fork();
  SLUICE_ASSERT(_pid >= 0);
  if (_pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE* out = std::fopen(log_path.c_str(), "w");
    if (out) {
      ::dup2(fileno(out), 1);
      ::dup2(fileno(out), 2);
    }
    ::execlp("java", "java", "-Xmx128m", "-cp", class_path, "org.apache.zookeeper.server.quorum.QuorumPeerMain",
             cfg_path.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!answers_ruok(_port)) {
    int status = 0;
    SLUICE_ASSERT(::waitpid(_pid, &status, WNOHANG) == 0,
                      "ZooKeeper exited during start-up; see {}", log_path);
    SLUICE_ASSERT(std::chrono::steady_clock::now() < deadline,
                      "ZooKeeper did not start within 60 s; see {}", log_path);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

zookeeper_server::~zookeeper_server() {
  if (_pid > 0) {
    ::kill(_pid, SIGKILL);
    ::waitpid(_pid, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(_dir, ec);
}

std::string zookeeper_server::connect() const { return fmt::format("127.0.0.1:{}", _port); }

}  // namespace sluice::cluster::testing
