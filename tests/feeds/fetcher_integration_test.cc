// The real CurlFetcher against FeedTestServer on loopback: one test per
// server behaviour.  Timeouts here are short on purpose (they are what is
// under test); nothing asserts on elapsed wall time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "feeds/fetch/fetcher.h"
#include "tests/feeds/feed_test_server.h"

namespace tw::feeds {
namespace {

using testing::Behavior;
using testing::FeedTestServer;
using testing::Route;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/feeds/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

class FetcherIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Loopback must never go through a proxy from the environment.
    for (const char* v : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) unsetenv(v);
  }

  void SetUp() override {
    auto server = FeedTestServer::Start();
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    server_ = std::move(*server);
    firehol_ = ReadFixture("firehol_level1.netset");
    ASSERT_GT(firehol_.size(), 1000u) << "fixture testdata/feeds/firehol_level1.netset missing";
    limits_.connect_timeout = std::chrono::seconds(5);
    limits_.stall_timeout = std::chrono::seconds(10);
    limits_.total_timeout = std::chrono::seconds(30);
  }

  Result<FetchResult> Get(const std::string& path) {
    return fetcher_.Fetch(FetchRequest{server_->Url(path), {}, "", ""}, limits_);
  }

  Route MakeRoute(const std::string& path, Behavior behavior, std::string body = "") {
    Route route;
    route.path = path;
    route.behavior = behavior;
    route.body = std::move(body);
    return route;
  }

  std::unique_ptr<FeedTestServer> server_;
  CurlFetcher fetcher_;
  FetchLimits limits_;
  std::string firehol_;
};

TEST_F(FetcherIntegrationTest, ServesARealFeedByteForByte) {
  server_->SetBody("/firehol_level1.netset", firehol_);
  auto r = Get("/firehol_level1.netset");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, firehol_);
  EXPECT_EQ(r->http_status, 200);
  EXPECT_FALSE(r->not_modified);
  EXPECT_EQ(r->wire_bytes, firehol_.size());
  EXPECT_EQ(r->final_url, server_->Url("/firehol_level1.netset"));
  EXPECT_EQ(server_->Hits("/firehol_level1.netset"), 1u);
}

TEST_F(FetcherIntegrationTest, EmptyBodyIsOk) {
  server_->SetBody("/empty.txt", "");
  auto r = Get("/empty.txt");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->http_status, 200);
}

TEST_F(FetcherIntegrationTest, Http500IsUnavailable) {
  Route route = MakeRoute("/down", Behavior::kStatus, "oops");
  route.status = 503;
  server_->SetRoute(route);
  route.path = "/broken";
  route.status = 500;
  server_->SetRoute(route);
  auto r = Get("/down");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable()) << r.error().ToString();
  EXPECT_EQ(r.error().message(), server_->Url("/down") + ": HTTP 503 Service Unavailable");
  auto r500 = Get("/broken");
  ASSERT_FALSE(r500.ok());
  EXPECT_TRUE(r500.error().IsUnavailable());
  EXPECT_TRUE(Contains(r500.error().message(), "HTTP 500 Internal Server Error"));
}

TEST_F(FetcherIntegrationTest, Http404IsNotFoundAnd403PermissionDenied) {
  auto r = Get("/missing.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsNotFound()) << r.error().ToString();
  EXPECT_EQ(r.error().message(), server_->Url("/missing.txt") + ": HTTP 404 Not Found");
  Route route = MakeRoute("/private", Behavior::kStatus);
  route.status = 403;
  server_->SetRoute(route);
  auto denied = Get("/private");
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(denied.error().IsPermissionDenied()) << denied.error().ToString();
}

TEST_F(FetcherIntegrationTest, ResetIsUnavailable) {
  server_->SetRoute(MakeRoute("/reset", Behavior::kReset));
  auto r = Get("/reset");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable()) << r.error().ToString();
}

TEST_F(FetcherIntegrationTest, StalledDripIsUnavailable) {
  Route route = MakeRoute("/drip", Behavior::kSlowDrip, "1.2.3.4\n5.6.7.8\n");
  route.drip_interval = std::chrono::seconds(5);
  server_->SetRoute(route);
  limits_.stall_timeout = std::chrono::milliseconds(300);
  auto r = Get("/drip");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable()) << r.error().ToString();
  EXPECT_EQ(r.error().message(), server_->Url("/drip") + ": no data for 300ms (stalled)");
}

TEST_F(FetcherIntegrationTest, SteadyDripIsNotAStall) {
  Route route = MakeRoute("/drip", Behavior::kSlowDrip, "1.2.3.4\n");
  route.drip_interval = std::chrono::milliseconds(10);
  server_->SetRoute(route);
  limits_.stall_timeout = std::chrono::seconds(5);
  auto r = Get("/drip");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "1.2.3.4\n");
}

TEST_F(FetcherIntegrationTest, HangHitsTheStallAndTheTotalTimeout) {
  server_->SetRoute(MakeRoute("/hang", Behavior::kHang));
  limits_.stall_timeout = std::chrono::milliseconds(300);
  auto stalled = Get("/hang");
  ASSERT_FALSE(stalled.ok());
  EXPECT_TRUE(stalled.error().IsUnavailable()) << stalled.error().ToString();
  EXPECT_TRUE(Contains(stalled.error().message(), "(stalled)"));

  limits_.stall_timeout = std::chrono::seconds(30);
  limits_.total_timeout = std::chrono::milliseconds(300);
  auto timed_out = Get("/hang");
  ASSERT_FALSE(timed_out.ok());
  EXPECT_TRUE(timed_out.error().IsUnavailable()) << timed_out.error().ToString();
  EXPECT_TRUE(Contains(timed_out.error().message(), "timed out")) << timed_out.error().message();
}

TEST_F(FetcherIntegrationTest, TruncatedBodyIsUnavailable) {
  server_->SetRoute(MakeRoute("/half", Behavior::kTruncated, firehol_));
  auto r = Get("/half");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable()) << r.error().ToString();
  EXPECT_TRUE(Contains(r.error().message(), "body truncated after")) << r.error().message();
  EXPECT_TRUE(Contains(r.error().message(), "(connection closed early)"));
}

TEST_F(FetcherIntegrationTest, WrongContentLengthIsUnavailable) {
  server_->SetRoute(MakeRoute("/short", Behavior::kWrongLength, firehol_));
  auto r = Get("/short");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable()) << r.error().ToString();
  EXPECT_TRUE(Contains(r.error().message(), "body truncated after " + std::to_string(firehol_.size()) +
                                                " bytes of " + std::to_string(firehol_.size() + 100)))
      << r.error().message();
}

TEST_F(FetcherIntegrationTest, GzipIsDecoded) {
  server_->SetRoute(MakeRoute("/feed.txt", Behavior::kGzip, firehol_));
  auto r = Get("/feed.txt");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, firehol_);
  EXPECT_LT(r->wire_bytes, firehol_.size());  // counted before decoding
  auto accept = server_->LastHeader("/feed.txt", "Accept-Encoding");
  ASSERT_TRUE(accept.has_value());
  EXPECT_TRUE(Contains(*accept, "gzip"));
}

TEST_F(FetcherIntegrationTest, BadGzipIsInvalidArgument) {
  server_->SetRoute(MakeRoute("/bad", Behavior::kBadGzip, firehol_));
  auto r = Get("/bad");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().ToString();
  EXPECT_TRUE(Contains(r.error().message(), "body fails to decode")) << r.error().message();
}

TEST_F(FetcherIntegrationTest, RedirectIsFollowed) {
  server_->SetBody("/real.txt", "10.0.0.0/8\n");
  Route route = MakeRoute("/moved", Behavior::kRedirect);
  route.location = server_->Url("/real.txt");
  route.status = 301;
  server_->SetRoute(route);
  Route relative = MakeRoute("/moved-relative", Behavior::kRedirect);
  relative.location = "/moved";
  server_->SetRoute(relative);
  auto r = Get("/moved-relative");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "10.0.0.0/8\n");
  EXPECT_EQ(r->final_url, server_->Url("/real.txt"));
  EXPECT_EQ(server_->Hits("/moved"), 1u);
  EXPECT_EQ(server_->Hits("/real.txt"), 1u);
}

TEST_F(FetcherIntegrationTest, RedirectLoopIsInvalidArgument) {
  server_->SetRoute(MakeRoute("/loop", Behavior::kRedirectLoop));
  limits_.max_redirects = 3;
  auto r = Get("/loop");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().ToString();
  EXPECT_EQ(r.error().message(), server_->Url("/loop") + ": redirect loop (more than 3 redirects)");
  EXPECT_EQ(server_->Hits("/loop"), 4u);  // the first request and 3 redirects
}

TEST_F(FetcherIntegrationTest, RedirectToFileIsRefused) {
  std::string secret = std::string(TW_SOURCE_DIR) + "/CMakeLists.txt";
  Route route = MakeRoute("/to-file", Behavior::kRedirect);
  route.location = "file://" + secret;
  server_->SetRoute(route);
  auto r = Get("/to-file");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().ToString();
}

TEST_F(FetcherIntegrationTest, BodyOverTheLimitIsTooLarge) {
  server_->SetBody("/big", firehol_);
  limits_.max_body_bytes = 1000;
  auto r = Get("/big");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsTooLarge()) << r.error().ToString();
  EXPECT_EQ(r.error().message(),
            server_->Url("/big") + ": body over the limit of 1000 bytes (max_body_bytes)");

  // Exactly at the limit is fine.
  limits_.max_body_bytes = firehol_.size();
  EXPECT_TRUE(Get("/big").ok());
}

TEST_F(FetcherIntegrationTest, GzipBombIsTooLarge) {
  std::string zeros(16 << 20, '0');
  server_->SetRoute(MakeRoute("/bomb", Behavior::kGzip, zeros));
  limits_.max_body_bytes = 1 << 20;
  auto r = Get("/bomb");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsTooLarge()) << r.error().ToString();
  EXPECT_TRUE(Contains(r.error().message(), "limit of 1048576 bytes"));
}

TEST_F(FetcherIntegrationTest, EtagRoundTripGives304NotModified) {
  Route route = MakeRoute("/etag.txt", Behavior::kServe, firehol_);
  route.etag = "\"v1\"";
  route.last_modified = "Sun, 19 Feb 2023 22:03:03 GMT";
  server_->SetRoute(route);
  auto first = Get("/etag.txt");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->etag, "\"v1\"");
  EXPECT_EQ(first->last_modified, "Sun, 19 Feb 2023 22:03:03 GMT");

  FetchRequest again{server_->Url("/etag.txt"), {}, first->etag, ""};
  auto second = fetcher_.Fetch(again, limits_);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_TRUE(second->not_modified);
  EXPECT_EQ(second->http_status, 304);
  EXPECT_EQ(second->body, "");
  EXPECT_EQ(server_->LastHeader("/etag.txt", "If-None-Match"), std::optional<std::string>("\"v1\""));

  FetchRequest by_date{server_->Url("/etag.txt"), {}, "", first->last_modified};
  auto third = fetcher_.Fetch(by_date, limits_);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->not_modified);
  EXPECT_EQ(server_->LastHeader("/etag.txt", "If-Modified-Since"), first->last_modified);

  route.etag = "\"v2\"";  // the feed changed: a full body again
  server_->SetRoute(route);
  auto fourth = fetcher_.Fetch(again, limits_);
  ASSERT_TRUE(fourth.ok());
  EXPECT_FALSE(fourth->not_modified);
  EXPECT_EQ(fourth->body, firehol_);
  EXPECT_EQ(fourth->etag, "\"v2\"");
}

TEST_F(FetcherIntegrationTest, RequestHeadersAreSent) {
  server_->SetBody("/auth.txt", "1.1.1.1\n");
  FetchRequest request{
      server_->Url("/auth.txt"), {{"Authorization", "Bearer tok-123"}, {"X-Api-Key", "k"}}, "", ""};
  auto r = fetcher_.Fetch(request, limits_);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(server_->LastHeader("/auth.txt", "authorization"), std::optional<std::string>("Bearer tok-123"));
  EXPECT_EQ(server_->LastHeader("/auth.txt", "X-Api-Key"), std::optional<std::string>("k"));
  auto ua = server_->LastHeader("/auth.txt", "User-Agent");
  ASSERT_TRUE(ua.has_value());
  EXPECT_TRUE(ua->starts_with("threatwall/"));
  ASSERT_EQ(server_->Requests("/auth.txt").size(), 1u);
}

TEST_F(FetcherIntegrationTest, ErrorMessagesNeverCarryHeaderValues) {
  Route route = MakeRoute("/secret", Behavior::kStatus);
  route.status = 401;
  server_->SetRoute(route);
  std::string url = server_->Url("/secret");
  url.insert(url.find("127.0.0.1"), "user:hunter2@");
  FetchRequest request{url, {{"Authorization", "Bearer sekrit-value"}}, "", ""};
  auto r = fetcher_.Fetch(request, limits_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsPermissionDenied()) << r.error().ToString();
  EXPECT_FALSE(Contains(r.error().message(), "sekrit")) << r.error().message();
  EXPECT_FALSE(Contains(r.error().message(), "hunter2")) << r.error().message();
}

TEST_F(FetcherIntegrationTest, ConnectionRefusedIsUnavailable) {
  // A port that was just free: bind, read the port, close.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x";
  auto r = fetcher_.Fetch(FetchRequest{url, {}, "", ""}, limits_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable()) << r.error().ToString();
  EXPECT_EQ(r.error().message(), url + ": connection refused");
}

TEST_F(FetcherIntegrationTest, ConcurrentFetchesFromSeveralThreads) {
  server_->SetBody("/a", firehol_);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        auto r = Get("/a");
        if (r.ok() && r->body == firehol_) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 20);
  EXPECT_EQ(server_->Hits("/a"), 20u);
}

TEST_F(FetcherIntegrationTest, StopReturnsWithClientsStillAttached) {
  server_->SetRoute(MakeRoute("/hang", Behavior::kHang));
  Route drip = MakeRoute("/drip", Behavior::kSlowDrip, std::string(1000, 'x'));
  drip.drip_interval = std::chrono::seconds(1);
  server_->SetRoute(drip);
  limits_.stall_timeout = std::chrono::seconds(60);
  limits_.total_timeout = std::chrono::seconds(60);
  Result<FetchResult> hang = Status::Internal("not run"), dripped = Status::Internal("not run");
  std::thread a([&] { hang = Get("/hang"); });
  std::thread b([&] { dripped = Get("/drip"); });
  while (server_->Hits("/hang") == 0 || server_->Hits("/drip") == 0) std::this_thread::yield();
  server_->Stop();  // must not wait for the clients
  a.join();
  b.join();
  ASSERT_FALSE(hang.ok());
  EXPECT_TRUE(hang.error().IsUnavailable()) << hang.error().ToString();
  ASSERT_FALSE(dripped.ok());
  EXPECT_TRUE(dripped.error().IsUnavailable()) << dripped.error().ToString();
}

// ---- TLS -------------------------------------------------------------------

class FetcherTlsTest : public FetcherIntegrationTest {
 protected:
  void SetUp() override {
    FetcherIntegrationTest::SetUp();
    FeedTestServer::Options options;
    options.tls = true;
    auto server = FeedTestServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    tls_ = std::move(*server);
    tls_->SetBody("/feed.txt", firehol_);
  }
  std::unique_ptr<FeedTestServer> tls_;
};

TEST_F(FetcherTlsTest, SelfSignedWithoutCaFileIsInvalidArgument) {
  auto r = fetcher_.Fetch(FetchRequest{tls_->Url("/feed.txt"), {}, "", ""}, limits_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().ToString();
  EXPECT_TRUE(Contains(r.error().message(), "TLS certificate verification failed")) << r.error().message();
  EXPECT_TRUE(Contains(r.error().message(), "certificate")) << r.error().message();
}

TEST_F(FetcherTlsTest, WithCaFileIsOk) {
  ASSERT_FALSE(tls_->ca_pem_file().empty());
  limits_.ca_file = tls_->ca_pem_file();
  auto r = fetcher_.Fetch(FetchRequest{tls_->Url("/feed.txt"), {}, "", ""}, limits_);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, firehol_);
  EXPECT_EQ(r->http_status, 200);
}

TEST_F(FetcherTlsTest, AnotherServersCaIsNotTrusted) {
  FeedTestServer::Options options;
  options.tls = true;
  auto other = FeedTestServer::Start(options);
  ASSERT_TRUE(other.ok());
  limits_.ca_file = (*other)->ca_pem_file();
  auto r = fetcher_.Fetch(FetchRequest{tls_->Url("/feed.txt"), {}, "", ""}, limits_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().ToString();
}

TEST_F(FetcherTlsTest, LocalhostNameMatchesToo) {
  limits_.ca_file = tls_->ca_pem_file();
  std::string url = "https://localhost:" + std::to_string(tls_->port()) + "/feed.txt";
  auto r = fetcher_.Fetch(FetchRequest{url, {}, "", ""}, limits_);
  // localhost may resolve to ::1 first; the server only listens on 127.0.0.1,
  // and libcurl falls back to IPv4 on refusal.
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, firehol_);
}

// ---- file:// -----------------------------------------------------------------

TEST_F(FetcherIntegrationTest, FileUrlsPlainAndGz) {
  char tmpl[] = "/tmp/tw-fetch-it-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::ofstream(dir + "/feed.netset", std::ios::binary) << firehol_;
  std::ofstream(dir + "/feed.netset.gz", std::ios::binary) << testing::Gzip(firehol_);
  auto plain = fetcher_.Fetch(FetchRequest{"file://" + dir + "/feed.netset", {}, "", ""}, limits_);
  auto gz = fetcher_.Fetch(FetchRequest{"file://" + dir + "/feed.netset.gz", {}, "", ""}, limits_);
  auto missing = fetcher_.Fetch(FetchRequest{"file://" + dir + "/nope", {}, "", ""}, limits_);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_EQ(plain->body, firehol_);
  ASSERT_TRUE(gz.ok()) << gz.error().ToString();
  EXPECT_EQ(gz->body, firehol_);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().IsNotFound());
}

}  // namespace
}  // namespace tw::feeds
