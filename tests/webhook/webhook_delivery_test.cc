// WebhookDispatcher + CurlPoster against a real HTTP receiver on 127.0.0.1
// (a thread with a listening socket).  Loopback only, no root.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/strings.h"
#include "model/kinds.h"
#include "store/mem_store.h"
#include "webhook/dispatcher.h"
#include "webhook/http_poster.h"

namespace tw::webhook {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Received {
  std::string method, path, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (EqualsIgnoreCase(k, name)) return v;
    return "";
  }
};

// One request per connection (Connection: close).  The first `fail_first`
// requests get `fail_status`, the rest 200; `hang` holds every request
// without an answer until Stop().
class Receiver {
 public:
  explicit Receiver(int fail_first = 0, int fail_status = 503, bool hang = false)
      : fail_first_(fail_first), fail_status_(fail_status), hang_(hang) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() { Stop(); }

  void Stop() {
    if (stopping_.exchange(true)) return;
    shutdown(fd_, SHUT_RDWR);  // wakes accept()
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }

  std::string Url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }

  bool WaitFor(size_t n, milliseconds limit = seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return received_.size() >= n; });
  }
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stopping_) return;
        continue;
      }
      Handle(c);
      close(c);
    }
  }

  void Handle(int c) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t need = 0;
    for (;;) {
      if (header_end != std::string::npos && data.size() >= header_end + 4 + need) break;
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        Received r = ParseHead(data.substr(0, header_end));
        std::string cl = r.Header("Content-Length");
        need = cl.empty() ? 0 : std::stoul(cl);
      }
    }
    Received r = ParseHead(data.substr(0, header_end));
    r.body = data.substr(header_end + 4, need);
    int status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(r);
      status = static_cast<int>(received_.size()) <= fail_first_ ? fail_status_ : 200;
    }
    cv_.notify_all();
    if (hang_) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_.load(); });
      return;
    }
    std::string reason = status == 200 ? "OK" : "Error";
    std::string body = status == 200 ? "ok" : "try later";
    std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                       "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)!write(c, resp.data(), resp.size());
  }

  static Received ParseHead(const std::string& head) {
    Received r;
    std::vector<std::string_view> lines = Split(head, '\n');
    if (lines.empty()) return r;
    std::vector<std::string_view> first = Split(TrimSpace(lines[0]), ' ');
    if (first.size() >= 2) {
      r.method = std::string(first[0]);
      r.path = std::string(first[1]);
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      std::string_view l = TrimSpace(lines[i]);
      size_t colon = l.find(':');
      if (colon == std::string_view::npos) continue;
      r.headers.emplace_back(std::string(TrimSpace(l.substr(0, colon))),
                             std::string(TrimSpace(l.substr(colon + 1))));
    }
    return r;
  }

  int fd_ = -1;
  int port_ = 0;
  const int fail_first_;
  const int fail_status_;
  const bool hang_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
  std::thread thread_;
};

class WebhookDeliveryTest : public ::testing::Test {
 protected:
  WebhookDeliveryTest() {
    options_.retry_base = milliseconds(100);
    options_.retry_max = milliseconds(400);
    options_.max_attempts = 5;
    options_.post.allow_dns = false;
    options_.post.connect_timeout = seconds(5);
    options_.post.total_timeout = seconds(10);
  }

  void PutWebhook(const std::string& name, const std::string& state, const std::string& url,
                  const std::string& query = "") {
    json::object obj{
        {"apiVersion", "projectcalico.org/v3"},
        {"kind", "SecurityEventWebhook"},
        {"metadata",
         json::object{{"name", name},
                      {"annotations", json::object{{std::string(kLabelsAnnotation), "cluster:lab"}}}}},
        {"spec", json::object{{"consumer", "Generic"},
                              {"state", state},
                              {"query", query},
                              {"config", json::array{json::object{{"name", "url"}, {"value", url}}}}}}};
    ASSERT_TRUE(store_.Create({kind_, "", name}, json::serialize(obj)).ok());
  }
  void Start() {
    dispatcher_ = std::make_unique<WebhookDispatcher>(store_, Clock::Real(), poster_, options_);
    Status s = dispatcher_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  json::object Object(const std::string& name) {
    auto r = store_.Get({kind_, "", name});
    return r.ok() ? json::parse(r->value).as_object() : json::object();
  }
  // Waits (bounded) until `pred` holds on the dispatcher's stats.
  bool WaitStats(const std::function<bool(const DispatcherStats&)>& pred) {
    for (int i = 0; i < 3000; ++i) {
      if (pred(dispatcher_->Stats())) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  store::MemStore store_;
  CurlPoster poster_;
  WebhookOptions options_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::string kind_ = model::FindKind("projectcalico.org/v3", "SecurityEventWebhook")->StoreKind();
};

json::object Event() {
  return json::object{{"id", "snort_1767225600_tcp_10.244.0.5_40000_5.196.58.96_443"},
                      {"type", "gtf_suspicious_flow"},
                      {"severity", 100},
                      {"source_namespace", "default"},
                      {"source_name", "tf-ubuntu"},
                      {"dest_ip", "5.196.58.96"},
                      {"record", json::object{{"flow_action", "deny"}, {"feeds", json::array{"snort"}}}}};
}

TEST_F(WebhookDeliveryTest, RetriesThroughTwo503sThenDeliversTheEventJson) {
  Receiver receiver(/*fail_first=*/2, 503);
  PutWebhook("generic", "Enabled", receiver.Url(), "type = gtf_suspicious_flow");
  Start();
  dispatcher_->Publish(Event());
  ASSERT_TRUE(receiver.WaitFor(3));
  ASSERT_TRUE(WaitStats([](const DispatcherStats& s) { return s.webhooks.at("generic").sent == 1; }));
  std::vector<Received> got = receiver.received();
  ASSERT_EQ(got.size(), 3u);
  json::object want = Event();
  want["labels"] = json::object{{"cluster", "lab"}};
  for (const Received& r : got) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/hook");
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    EXPECT_EQ(json::parse(r.body), json::value(want)) << r.body;
  }
  WebhookStats st = dispatcher_->Stats().webhooks.at("generic");
  EXPECT_EQ(st.retried, 2u);
  EXPECT_EQ(st.failed, 0u);
  dispatcher_->Stop();
  json::object last = Object("generic")["status"].as_object()["lastDelivery"].as_object();
  EXPECT_EQ(last["result"], "Delivered");
  EXPECT_EQ(last["attempts"], 3);
  EXPECT_EQ(last["httpStatus"], 200);
}

TEST_F(WebhookDeliveryTest, ClientErrorIsNotRetried) {
  Receiver receiver(/*fail_first=*/1, 400);
  PutWebhook("generic", "Enabled", receiver.Url());
  Start();
  dispatcher_->Publish(Event());
  ASSERT_TRUE(WaitStats([](const DispatcherStats& s) { return s.webhooks.at("generic").failed == 1; }));
  std::this_thread::sleep_for(milliseconds(300));  // longer than a retry delay: none comes
  EXPECT_EQ(receiver.received().size(), 1u);
  dispatcher_->Stop();
  json::object status = Object("generic")["status"].as_object();
  EXPECT_EQ(status["lastDelivery"].as_object()["message"], "unexpected response [400]:try later");
  EXPECT_EQ(status["conditions"].as_array()[0].as_object()["status"], "False");
}

TEST_F(WebhookDeliveryTest, ConnectionRefusedIsRetriedUntilGivenUp) {
  int port;
  {
    Receiver gone;  // take a free port, then close it
    port = gone.port();
  }
  options_.max_attempts = 3;
  PutWebhook("generic", "Enabled", "http://127.0.0.1:" + std::to_string(port) + "/hook");
  Start();
  dispatcher_->Publish(Event());
  ASSERT_TRUE(WaitStats([](const DispatcherStats& s) { return s.webhooks.at("generic").failed == 1; }));
  WebhookStats st = dispatcher_->Stats().webhooks.at("generic");
  EXPECT_EQ(st.retried, 2u);
  dispatcher_->Stop();
  std::string message(
      Object("generic")["status"].as_object()["lastDelivery"].as_object()["message"].as_string());
  EXPECT_NE(message.find("connection refused"), std::string::npos) << message;
}

TEST_F(WebhookDeliveryTest, HangingReceiverDoesNotBlockAnotherAndStopCancels) {
  Receiver hanging(0, 200, /*hang=*/true);
  Receiver fine;
  PutWebhook("hanging", "Enabled", hanging.Url());
  PutWebhook("fine", "Enabled", fine.Url());
  Start();
  for (int i = 0; i < 3; ++i) {
    json::object e = Event();
    e["id"] = "e" + std::to_string(i);
    dispatcher_->Publish(e);
  }
  ASSERT_TRUE(fine.WaitFor(3));
  ASSERT_TRUE(hanging.WaitFor(1));
  auto t0 = std::chrono::steady_clock::now();
  dispatcher_->Stop();  // must not wait for the 10 s post timeout
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));
  DispatcherStats st = dispatcher_->Stats();
  EXPECT_EQ(st.webhooks["fine"].sent, 3u);
  EXPECT_EQ(st.webhooks["hanging"].sent, 0u);
  EXPECT_EQ(st.webhooks["hanging"].abandoned, 3u);
  hanging.Stop();
}

TEST_F(WebhookDeliveryTest, TestStateFiresOnceOverTheWire) {
  Receiver receiver;
  PutWebhook("t", "Test", receiver.Url());
  Start();
  ASSERT_TRUE(receiver.WaitFor(1));
  json::object body = json::parse(receiver.received()[0].body).as_object();
  EXPECT_EQ(std::string(body["description"].as_string()).substr(0, 6), "[TEST]");
  for (int i = 0; i < 3000 && Object("t")["spec"].as_object()["state"] != "Enabled"; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(Object("t")["spec"].as_object()["state"], "Enabled");
  dispatcher_->Stop();
  EXPECT_EQ(receiver.received().size(), 1u);
}

}  // namespace
}  // namespace tw::webhook
