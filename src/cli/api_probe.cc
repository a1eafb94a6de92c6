#include "cli/api_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sluice::cli {
namespace {

using clock_type = std::chrono::steady_clock;

int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_fd(int fd, short events, clock_type::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool io_all(int fd, char* buf, size_t len, bool write, clock_type::time_point deadline, std::string& error) {
  size_t done = 0;
  while (done < len) {
    if (!wait_fd(fd, write ? POLLOUT : POLLIN, deadline)) {
      error = "timed out";
      return false;
    }
    ssize_t n = write ? ::send(fd, buf + done, len - done, MSG_NOSIGNAL) : ::recv(fd, buf + done, len - done, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      error = n == 0 ? "connection closed by the broker" : std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void put16(std::string& s, int16_t v) {
  uint16_t b = htons(static_cast<uint16_t>(v));
  s.append(reinterpret_cast<const char*>(&b), 2);
}
void put32(std::string& s, int32_t v) {
  uint32_t b = htonl(static_cast<uint32_t>(v));
  s.append(reinterpret_cast<const char*>(&b), 4);
}
int16_t get16(const char* p) {
  uint16_t b;
  std::memcpy(&b, p, 2);
  return static_cast<int16_t>(ntohs(b));
}
int32_t get32(const char* p) {
  uint32_t b;
  std::memcpy(&b, p, 4);
  return static_cast<int32_t>(ntohl(b));
}

}  // namespace

bool probe_api_versions(const std::string& host, int port, int timeout_ms, std::vector<api_range>& out,
                        std::string& error) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_s = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0) {
    error = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
    return false;
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    error = std::strerror(errno);
    return false;
  }
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0 && errno != EINPROGRESS) {
    error = std::string("connect: ") + std::strerror(errno);
    return false;
  }
  if (!wait_fd(fd, POLLOUT, deadline)) {
    error = "connect timed out";
    return false;
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr != 0) {
    error = std::string("connect: ") + std::strerror(soerr);
    return false;
  }
  // Request header v1 (key, version, correlation id, client id) and an empty v0 body.
  const std::string client_id = "sluice-cli";
  std::string req;
  put16(req, 18);
  put16(req, 0);
  put32(req, 1);
  put16(req, static_cast<int16_t>(client_id.size()));
  req += client_id;
  std::string frame;
  put32(frame, static_cast<int32_t>(req.size()));
  frame += req;
  if (!io_all(fd, frame.data(), frame.size(), true, deadline, error)) return false;
  char size_buf[4];
  if (!io_all(fd, size_buf, 4, false, deadline, error)) return false;
  int32_t size = get32(size_buf);
  // Bound what we allocate: ~1000 APIs of 6 bytes each is far beyond any real broker.
  if (size < 10 || size > (1 << 16)) {
    error = "implausible ApiVersions response size " + std::to_string(size);
    return false;
  }
  std::string body(static_cast<size_t>(size), '\0');
  if (!io_all(fd, body.data(), body.size(), false, deadline, error)) return false;
  int16_t err = get16(body.data() + 4);
  int32_t count = get32(body.data() + 6);
  if (err != 0) {
    error = "ApiVersions error code " + std::to_string(err);
    return false;
  }
  if (count < 0 || static_cast<size_t>(count) * 6 + 10 > body.size()) {
    error = "malformed ApiVersions response";
    return false;
  }
  out.clear();
  for (int32_t i = 0; i < count; ++i) {
    const char* p = body.data() + 10 + i * 6;
    out.push_back({get16(p), get16(p + 2), get16(p + 4)});
  }
  return true;
}

}  // namespace sluice::cli
