// Idempotent producer on the wire (issue 5): starts the real broker binary and sends crafted
// InitProducerId and Produce requests encoded with the generated codec. A producer that skips a
// sequence gets OUT_OF_ORDER_SEQUENCE_NUMBER; an exact retry gets the original offset and is not
// appended; an older epoch gets INVALID_PRODUCER_EPOCH; an unknown producer starting above 0
// gets UNKNOWN_PRODUCER_ID. The binary comes from $SLUICE_BIN, else the build tree.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/assert.h"
#include "base/endian.h"
#include "model/record_batch_builder.h"
#include "protocol/api.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "protocol/messages.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace sluice::server {
namespace {

using E = protocol::error_code;

std::string sluice_bin() {
  const char* env = std::getenv("SLUICE_BIN");
  return env && *env ? env : SLUICE_DEFAULT_BIN;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};  // every read bounded
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A broker process on a free port with its own data directory; killed and removed at the end.
class broker_process {
 public:
  broker_process() {
    _dir = (std::filesystem::temp_directory_path() / fmt::format("sluice-wire-{}-{:x}", ::getpid(),
                                                                  std::random_device{}()))
               .string();
    std::filesystem::create_directories(_dir);
    _port = free_port();
    start();
  }
  ~broker_process() {
    stop(SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(_dir, ec);
  }
  int port() const { return _port; }

  void start() {
    std::string log = _dir + "/broker.log";
    _pid = ::fork();
    if (_pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::string listeners = fmt::format("listeners=PLAINTEXT://127.0.0.1:{}", _port);
      std::string dirs = fmt::format("log.dirs={}/data", _dir);
      std::string bin = sluice_bin();
      ::execl(bin.c_str(), bin.c_str(), "broker", "--set", listeners.c_str(), "--set", dirs.c_str(), "--set",
              "sluice.shards=2", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int fd = connect_to(_port);
      if (fd >= 0) {
        ::close(fd);
        return;
      }
      int status = 0;
      if (::waitpid(_pid, &status, WNOHANG) == _pid) {
        _pid = -1;
        FAIL() << "broker exited during start-up; see " << log;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "broker did not listen within 30 s";
  }

  void stop(int sig) {
    if (_pid <= 0) return;
    ::kill(_pid, sig);
    int status = 0;
    for (int i = 0; i < 300 && ::waitpid(_pid, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (::waitpid(_pid, &status, WNOHANG) == 0) {
      ::kill(_pid, SIGKILL);
      ::waitpid(_pid, &status, 0);
    }
    _pid = -1;
  }

 private:
  std::string _dir;
  int _port = 0;
  pid_t _pid = -1;
};

class client {
 public:
  explicit client(int port) : _fd(connect_to(port)) { SLUICE_ASSERT(_fd >= 0, "cannot connect to {}", port); }
  ~client() { ::close(_fd); }

  template <typename Api>
  typename Api::response call(const typename Api::request& req, int16_t version) {
    protocol::writer w;
    auto pos = w.begin_frame();
    protocol::request_header h;
    h.api_key = Api::key;
    h.api_version = version;
    h.correlation_id = ++_corr;
    h.client_id = "idempotent-wire-test";
    h.encode(w, protocol::request_header_version(Api::key, version));
    req.encode(w, version);
    w.end_frame(pos);
    auto bytes = w.flatten();
    EXPECT_EQ(::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    uint8_t len_buf[4];
    read_exact(len_buf, 4);
    std::vector<uint8_t> body(static_cast<size_t>(load_be<int32_t>(len_buf)));
    read_exact(body.data(), body.size());
    protocol::reader r{std::span<const uint8_t>(body)};
    protocol::response_header rh;
    EXPECT_TRUE(rh.decode(r, protocol::response_header_version(Api::key, version)));
    EXPECT_EQ(rh.correlation_id, _corr);
    typename Api::response resp;
    EXPECT_TRUE(resp.decode(r, version));
    EXPECT_EQ(r.remaining(), 0u);
    return resp;
  }

 private:
  void read_exact(uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t got = ::recv(_fd, p, n, 0);
      SLUICE_ASSERT(got > 0, "connection closed or timed out reading a response");
      p += got;
      n -= static_cast<size_t>(got);
    }
  }
  int _fd;
  int32_t _corr = 0;
};

std::vector<uint8_t> idempotent_batch(int64_t pid, int16_t epoch, int32_t seq, int records) {
  std::vector<model::record_data> recs;
  for (int i = 0; i < records; ++i) {
    model::record_data r;
    r.value = fmt::format("seq-{}", seq + i);
    r.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    recs.push_back(std::move(r));
  }
  model::batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  return model::build_batch(recs, o);
}

struct produce_outcome {
  int16_t error_code;
  int64_t base_offset;
};

produce_outcome produce(client& c, const std::string& topic, std::vector<uint8_t> batch, int16_t version = 7) {
  protocol::produce_request req;
  req.acks = -1;
  req.timeout_ms = 10000;
  protocol::produce_request::topic_produce_data t;
  t.name = topic;
  protocol::produce_request::partition_produce_data p;
  p.index = 0;
  p.records = protocol::records::owned(std::move(batch));
  t.partition_data.push_back(std::move(p));
  req.topic_data.push_back(std::move(t));
  auto resp = c.call<protocol::produce_api>(req, version);
  SLUICE_ASSERT(resp.responses.size() == 1 && resp.responses[0].partition_responses.size() == 1, "bad produce response");
  const auto& pr = resp.responses[0].partition_responses[0];
  return {pr.error_code, pr.base_offset};
}

int16_t ec(E e) { return static_cast<int16_t>(e); }

TEST(idempotent_wire, sequence_gap_duplicate_and_fencing) {
  broker_process broker;
  client c(broker.port());

  protocol::create_topics_request ct;
  protocol::create_topics_request::creatable_topic topic;
  topic.name = "idem";
  topic.num_partitions = 1;
  topic.replication_factor = 1;
  ct.topics.push_back(topic);
  auto created = c.call<protocol::create_topics_api>(ct, 4);
  ASSERT_EQ(created.topics.size(), 1u);
  ASSERT_EQ(created.topics[0].error_code, 0);

  protocol::init_producer_id_request ip;
  ip.transactional_id = std::nullopt;
  ip.transaction_timeout_ms = 60000;
  auto init = c.call<protocol::init_producer_id_api>(ip, 4);
  ASSERT_EQ(init.error_code, 0);
  const int64_t pid = init.producer_id;
  const int16_t epoch = init.producer_epoch;
  ASSERT_GE(pid, 0);
  ASSERT_EQ(epoch, 0);

  // Topic creation is asynchronous on the shards: retry the first append briefly.
  produce_outcome first{};
  for (int i = 0; i < 100; ++i) {
    first = produce(c, "idem", idempotent_batch(pid, epoch, 0, 3));
    if (first.error_code != ec(E::unknown_topic_or_partition) && first.error_code != ec(E::not_leader_or_follower)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(first.error_code, 0);
  EXPECT_EQ(first.base_offset, 0);

  auto second = produce(c, "idem", idempotent_batch(pid, epoch, 3, 2));
  EXPECT_EQ(second.error_code, 0);
  EXPECT_EQ(second.base_offset, 3);

  // Skips sequence 5: OUT_OF_ORDER_SEQUENCE_NUMBER.
  auto gap = produce(c, "idem", idempotent_batch(pid, epoch, 6, 1));
  EXPECT_EQ(gap.error_code, ec(E::out_of_order_sequence_number));
  EXPECT_EQ(gap.base_offset, -1);

  // Retry of the first batch: the original offset, nothing appended.
  auto dup = produce(c, "idem", idempotent_batch(pid, epoch, 0, 3));
  EXPECT_EQ(dup.error_code, 0);
  EXPECT_EQ(dup.base_offset, 0);

  auto next = produce(c, "idem", idempotent_batch(pid, epoch, 5, 1));
  EXPECT_EQ(next.error_code, 0);
  EXPECT_EQ(next.base_offset, 5);  // offsets 0-4 taken once each: the duplicate added nothing

  // Unknown producer not starting at 0.
  auto unknown = produce(c, "idem", idempotent_batch(pid + 100000, 0, 7, 1));
  EXPECT_EQ(unknown.error_code, ec(E::unknown_producer_id));

  // New epoch from sequence 0, then the old epoch is fenced (also at Produce v3).
  auto bumped = produce(c, "idem", idempotent_batch(pid, epoch + 1, 0, 1));
  EXPECT_EQ(bumped.error_code, 0);
  EXPECT_EQ(bumped.base_offset, 6);
  for (int16_t v : {3, 7}) {
    auto fenced = produce(c, "idem", idempotent_batch(pid, epoch, 6, 1), v);
    EXPECT_EQ(fenced.error_code, ec(E::invalid_producer_epoch)) << "Produce v" << v;
  }
}

}  // namespace
}  // namespace sluice::server
