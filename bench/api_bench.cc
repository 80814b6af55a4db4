// API benchmarks (issue 2 "Measure"): create throughput over HTTP on
// loopback, list latency with 50,000 stored objects, watch delivery latency
// (write -> event received by an HTTP watcher).  In-process server over a
// SqliteStore in a temporary directory; a minimal keep-alive client.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "api/api_handler.h"
#include "api/auth.h"
#include "api/http_server.h"
#include "api/resource_service.h"
#include "base/clock.h"
#include "store/sqlite_store.h"

namespace {

using namespace tw;  // NOLINT: benchmark file

constexpr const char* kToken = "benchtoken";

// A server over a fresh SqliteStore; removed with its directory at the end.
struct Server {
  explicit Server(store::SqliteStore::Sync sync) {
    char tmpl[] = "/tmp/tw-api-bench.XXXXXX";
    dir = mkdtemp(tmpl);
    store::SqliteStore::Options opts;
    opts.sync = sync;
    db = std::move(*store::SqliteStore::Open(dir + "/bench.db", opts));
    service = std::make_unique<api::ResourceService>(*db, Clock::Real());
    (void)service->EnsureBuiltins();
    auth = std::make_unique<api::Authenticator>(kToken, "");
    handler = std::make_unique<api::ApiHandler>(*service, *auth);
    http = std::move(*api::HttpServer::Start(api::HttpServerOptions{}, handler->AsHttpHandler()));
  }
  ~Server() {
    http.reset();
    handler.reset();
    service.reset();
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  std::unique_ptr<store::SqliteStore> db;
  std::unique_ptr<api::ResourceService> service;
  std::unique_ptr<api::Authenticator> auth;
  std::unique_ptr<api::ApiHandler> handler;
  std::unique_ptr<api::HttpServer> http;
};

// Keep-alive HTTP/1.1 client for Content-Length responses.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() { close(fd_); }

  void Send(const std::string& method, const std::string& path, const std::string& body,
            const std::string& extra_headers = "") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer " + kToken +
                      "\r\n" + extra_headers + "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body;
    size_t off = 0;
    while (off < req.size()) {
      ssize_t n = send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) std::abort();
      off += static_cast<size_t>(n);
    }
  }
  // Returns the status code; the body is left in body().
  int Receive() {
    while (buf_.find("\r\n\r\n") == std::string::npos) Read();
    size_t head = buf_.find("\r\n\r\n") + 4;
    int code = std::atoi(buf_.c_str() + 9);
    size_t cl = buf_.find("Content-Length: ");
    if (cl == std::string::npos || cl > head) cl = buf_.find("content-length: ");
    size_t len = std::strtoul(buf_.c_str() + cl + 16, nullptr, 10);
    while (buf_.size() < head + len) Read();
    body_ = buf_.substr(head, len);
    buf_.erase(0, head + len);
    return code;
  }
  int Do(const std::string& method, const std::string& path, const std::string& body = "") {
    Send(method, path, body);
    return Receive();
  }
  // For a watch: reads until one newline-terminated event arrived (chunk
  // framing is skipped: each event is one chunk ending in '\n').
  void WaitForLine() {
    while (buf_.find("}\n") == std::string::npos) Read();
    buf_.erase(0, buf_.find("}\n") + 2);
  }
  const std::string& body() const { return body_; }

 private:
  void Read() {
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) std::abort();
    buf_.append(tmp, static_cast<size_t>(n));
  }
  int fd_ = -1;
  std::string buf_;
  std::string body_;
};

std::string ConfigMapJson(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","labels":{"app":"bench"}},"data":{"k":"some value of moderate length"}})";
}

void RunCreates(benchmark::State& state, store::SqliteStore::Sync sync) {
  Server server(sync);
  Client client(server.http->port());
  int64_t i = 0;
  for (auto _ : state) {
    int code = client.Do("POST", "/api/v1/namespaces/default/configmaps", ConfigMapJson("c" + std::to_string(i++)));
    if (code != 201) state.SkipWithError("create failed");
  }
  state.SetItemsProcessed(state.iterations());
}

// One client, keep-alive, sequential creates (each acknowledged after its
// SQLite transaction commits).
void BM_ApiCreateHttpSyncFull(benchmark::State& state) { RunCreates(state, store::SqliteStore::Sync::kFull); }
void BM_ApiCreateHttpSyncNormal(benchmark::State& state) { RunCreates(state, store::SqliteStore::Sync::kNormal); }
BENCHMARK(BM_ApiCreateHttpSyncFull)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_ApiCreateHttpSyncNormal)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();

// GET of the whole list (JSON) and of the list as a kubectl Table, with
// 50,000 ConfigMaps stored.
void BM_ApiList50k(benchmark::State& state) {
  // Filled once, shared by both arguments; destroyed (directory removed) at exit.
  static std::unique_ptr<Server> server = [] {
    auto s = std::make_unique<Server>(store::SqliteStore::Sync::kNormal);
    api::ResourceTarget t{model::FindKind("v1", "ConfigMap"), "default", "", false};
    for (int i = 0; i < 50000; ++i)
      (void)s->service->Create(t, boost::json::parse(ConfigMapJson("c" + std::to_string(i))), {});
    return s;
  }();
  Client client(server->http->port());
  bool table = state.range(0) == 1;
  std::string path = "/api/v1/namespaces/default/configmaps";
  size_t bytes = 0;
  for (auto _ : state) {
    client.Send("GET", path, "", table ? "Accept: application/json;as=Table;v=v1;g=meta.k8s.io\r\n" : "");
    if (client.Receive() != 200) state.SkipWithError("list failed");
    bytes = client.body().size();
  }
  state.counters["response_MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(BM_ApiList50k)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime();

// Time from issuing a write (directly on the service) to the watcher
// receiving its event over HTTP.
void BM_ApiWatchDeliveryLatency(benchmark::State& state) {
  Server server(store::SqliteStore::Sync::kNormal);
  Client watcher(server.http->port());
  watcher.Send("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" +
                          std::to_string(server.db->CurrentRevision()),
               "");
  api::ResourceTarget t{model::FindKind("v1", "ConfigMap"), "default", "", false};
  int64_t i = 0;
  for (auto _ : state) {
    auto r = server.service->Create(t, boost::json::parse(ConfigMapJson("w" + std::to_string(i++))), {});
    if (r.code != 201) state.SkipWithError("create failed");
    watcher.WaitForLine();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApiWatchDeliveryLatency)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();

}  // namespace
