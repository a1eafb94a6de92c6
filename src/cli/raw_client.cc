#include "cli/raw_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "protocol/headers.h"

namespace sluice::cli {
namespace {

using clock_type = std::chrono::steady_clock;

// Larger answers than this are refused rather than allocated (the CLI's requests are small
// queries; a real answer is kilobytes).
constexpr int32_t max_response_bytes = 64 << 20;

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

bool io_all(int fd, uint8_t* buf, size_t len, bool write, clock_type::time_point deadline, std::string& error) {
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

}  // namespace

raw_connection::~raw_connection() {
  if (_fd >= 0) ::close(_fd);
}

bool raw_connection::connect(const std::string& host, int port, int timeout_ms, std::string& error) {
  _timeout_ms = timeout_ms;
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_s = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  _fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (_fd < 0) {
    ::freeaddrinfo(res);
    error = std::strerror(errno);
    return false;
  }
  int rc = ::connect(_fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  std::string where = host + ":" + port_s;
  if (rc != 0 && errno != EINPROGRESS) {
    error = "cannot connect to " + where + ": " + std::strerror(errno);
    return false;
  }
  if (!wait_fd(_fd, POLLOUT, deadline)) {
    error = "cannot connect to " + where + " within " + std::to_string(timeout_ms) + " ms";
    return false;
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  ::getsockopt(_fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr != 0) {
    error = "cannot connect to " + where + ": " + std::strerror(soerr);
    return false;
  }
  return true;
}

bool raw_connection::roundtrip(int16_t key, int16_t version, protocol::writer& body, std::vector<uint8_t>& response,
                               std::string& error) {
  if (_fd < 0) {
    error = "not connected";
    return false;
  }
  auto deadline = clock_type::now() + std::chrono::milliseconds(_timeout_ms);
  protocol::request_header header;
  header.api_key = key;
  header.api_version = version;
  header.correlation_id = _next_correlation_id++;
  header.client_id = "sluice-cli";
  protocol::writer w;
  header.encode(w, protocol::request_header_version(key, version));
  std::vector<uint8_t> head = w.flatten();
  std::vector<uint8_t> rest = body.flatten();
  std::vector<uint8_t> frame(4);
  uint32_t size = htonl(static_cast<uint32_t>(head.size() + rest.size()));
  std::memcpy(frame.data(), &size, 4);
  frame.insert(frame.end(), head.begin(), head.end());
  frame.insert(frame.end(), rest.begin(), rest.end());
  if (!io_all(_fd, frame.data(), frame.size(), true, deadline, error)) return false;

  uint8_t size_buf[4];
  if (!io_all(_fd, size_buf, 4, false, deadline, error)) return false;
  uint32_t raw_size;
  std::memcpy(&raw_size, size_buf, 4);
  auto answer_size = static_cast<int32_t>(ntohl(raw_size));
  if (answer_size < 4 || answer_size > max_response_bytes) {
    error = "implausible response size " + std::to_string(answer_size);
    return false;
  }
  std::vector<uint8_t> answer(static_cast<size_t>(answer_size));
  if (!io_all(_fd, answer.data(), answer.size(), false, deadline, error)) return false;
  protocol::reader r(std::span<const uint8_t>(answer.data(), answer.size()));
  protocol::response_header rh;
  if (!rh.decode(r, protocol::response_header_version(key, version)) || !r.ok()) {
    error = "malformed response header";
    return false;
  }
  if (rh.correlation_id != header.correlation_id) {
    error = "response for another request (correlation id " + std::to_string(rh.correlation_id) + ")";
    return false;
  }
  response.assign(answer.begin() + static_cast<std::ptrdiff_t>(r.position()), answer.end());
  return true;
}

}  // namespace sluice::cli
