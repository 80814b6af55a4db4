// The feed controller with its real parts -- CurlFetcher, SQLite behind the
// ChunkedStore -- against the misbehaving local feed server: every way a
// feed server can fail leaves the set in force exactly as it was and says
// why in status.errorConditions (issue 3's test list).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "feeds/controller/feed_controller.h"
#include "feeds/fetch/fetcher.h"
#include "model/kinds.h"
#include "store/chunked_store.h"
#include "store/sqlite_store.h"
#include "tests/feeds/feed_test_server.h"

namespace tw::feeds {
namespace {

namespace json = boost::json;
using testing::Behavior;
using testing::FeedTestServer;
using testing::Route;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/feeds/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FeedPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tw-feedpull-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto sqlite = store::SqliteStore::Open((dir_ / "tw.db").string(), {});
    ASSERT_TRUE(sqlite.ok()) << sqlite.error().message();
    store_ = std::make_unique<store::ChunkedStore>(std::move(*sqlite));
    auto server = FeedTestServer::Start();
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(*server);
    options_.seed = 3;
    options_.max_retries = 0;  // one attempt per Step: the retry schedule has its own unit test
    options_.fetch.stall_timeout = std::chrono::milliseconds(300);
    options_.fetch.connect_timeout = std::chrono::seconds(5);
    options_.fetch.total_timeout = std::chrono::seconds(30);
  }
  void TearDown() override {
    controller_.reset();
    server_.reset();
    tls_server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void CreateFeed(const std::string& url) {
    json::object obj{{"apiVersion", "projectcalico.org/v3"},
                     {"kind", "GlobalThreatFeed"},
                     {"metadata", {{"name", "snort"}, {"uid", "u1"}, {"generation", 1}}},
                     {"spec",
                      {{"content", "IPSet"},
                       {"globalNetworkSet", {{"labels", {{"threatfeed", "snort"}}}}},
                       {"pull", {{"period", "1h"}, {"http", {{"url", url}}}}}}}};
    ASSERT_TRUE(store_->Create({kind("GlobalThreatFeed"), "", "snort"}, json::serialize(obj)).ok());
  }

  void StartController() {
    controller_ = std::make_unique<FeedController>(*store_, fetcher_, clock_, options_);
    ASSERT_TRUE(controller_->Load().ok());
  }

  // One scheduled pull: advance past the period and step.
  void PullAgain() {
    clock_.Advance(std::chrono::hours(1));
    Status s = controller_->Step();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  std::string GnsValue() {
    auto r = store_->Get({kind("GlobalNetworkSet"), "", "threatfeed.snort"});
    return r.ok() ? r->value : std::string();
  }
  json::object FeedStatus() {
    auto r = store_->Get({kind("GlobalThreatFeed"), "", "snort"});
    json::object o = json::parse(r->value).as_object();
    return o.contains("status") ? o["status"].as_object() : json::object();
  }
  std::string LastCondition() {
    json::object st = FeedStatus();
    if (!st.contains("errorConditions") || st["errorConditions"].as_array().empty()) return "";
    const json::object& c = st["errorConditions"].as_array().back().as_object();
    return json::value_to<std::string>(c.at("type")) + ": " + json::value_to<std::string>(c.at("message"));
  }

  // A good pull of the real SNORT list, then `misbehave`; the set must not
  // move and the condition must contain `expected`.
  void ExpectHeld(const std::function<void()>& misbehave, const std::string& expected) {
    server_->SetBody("/snort", Fixture("firehol_snort_ipfilter.ipset"));
    CreateFeed(server_->Url("/snort"));
    StartController();
    ASSERT_TRUE(controller_->Step().ok());
    std::string good = GnsValue();
    ASSERT_NE(good.find("5.196.58.96/32"), std::string::npos) << "first pull did not produce the set";
    ASSERT_EQ(LastCondition(), "");
    misbehave();
    PullAgain();
    EXPECT_EQ(GnsValue(), good) << "the set in force changed";
    EXPECT_NE(LastCondition().find(expected), std::string::npos) << LastCondition();
    EXPECT_EQ(FeedStatus()["lastPullResult"], expected.find("collapse") != std::string::npos ? "Held" : "Failed");
  }

  std::string kind(std::string_view k) { return model::FindKind("projectcalico.org/v3", k)->StoreKind(); }

  std::filesystem::path dir_;
  std::unique_ptr<store::ChunkedStore> store_;
  std::unique_ptr<FeedTestServer> server_, tls_server_;
  CurlFetcher fetcher_;
  FakeClock clock_;
  FeedControllerOptions options_;
  std::unique_ptr<FeedController> controller_;
};

TEST_F(FeedPullTest, ServerError500) {
  ExpectHeld([&] { server_->SetRoute({.path = "/snort", .behavior = Behavior::kStatus, .status = 500}); },
             "PullFailed: pull failed: " + server_->Url("/snort"));
  EXPECT_NE(LastCondition().find("500"), std::string::npos);
}

TEST_F(FeedPullTest, NotFound404) {
  ExpectHeld([&] { server_->SetRoute({.path = "/snort", .behavior = Behavior::kStatus, .status = 404}); }, "404");
}

TEST_F(FeedPullTest, ConnectionReset) {
  ExpectHeld([&] { server_->SetRoute({.path = "/snort", .behavior = Behavior::kReset}); }, "PullFailed");
}

TEST_F(FeedPullTest, SlowDripPastTheStallTimeout) {
  ExpectHeld(
      [&] {
        server_->SetRoute({.path = "/snort", .behavior = Behavior::kSlowDrip, .body = "1.2.3.4\n5.6.7.8\n",
                           .drip_interval = std::chrono::milliseconds(2000)});
      },
      "PullFailed");
}

TEST_F(FeedPullTest, TruncatedBody) {
  ExpectHeld(
      [&] {
        server_->SetRoute(
            {.path = "/snort", .behavior = Behavior::kTruncated, .body = Fixture("firehol_snort_ipfilter.ipset")});
      },
      "PullFailed");
}

TEST_F(FeedPullTest, WrongContentLength) {
  ExpectHeld(
      [&] {
        server_->SetRoute(
            {.path = "/snort", .behavior = Behavior::kWrongLength, .body = Fixture("firehol_snort_ipfilter.ipset")});
      },
      "PullFailed");
}

TEST_F(FeedPullTest, RedirectLoop) {
  ExpectHeld([&] { server_->SetRoute({.path = "/snort", .behavior = Behavior::kRedirectLoop}); }, "redirect");
}

TEST_F(FeedPullTest, BodyOverTheSizeLimit) {
  options_.fetch.max_body_bytes = 64 << 10;
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1\n";
  ExpectHeld([&] { server_->SetBody("/snort", big); }, "PullFailed");
  EXPECT_NE(LastCondition().find("65536"), std::string::npos) << LastCondition();
}

TEST_F(FeedPullTest, EmptyBodyAfterAGoodPullIsHeldByTheCollapseGuard) {
  ExpectHeld([&] { server_->SetBody("/snort", ""); }, "collapse guard");
}

TEST_F(FeedPullTest, GzipBodyGivesTheSameSet) {
  server_->SetBody("/snort", Fixture("firehol_snort_ipfilter.ipset"));
  CreateFeed(server_->Url("/snort"));
  StartController();
  ASSERT_TRUE(controller_->Step().ok());
  std::string plain = GnsValue();
  server_->SetRoute(
      {.path = "/snort", .behavior = Behavior::kGzip, .body = Fixture("firehol_snort_ipfilter.ipset") + "9.9.9.9\n"});
  PullAgain();
  EXPECT_EQ(LastCondition(), "");
  EXPECT_NE(GnsValue(), plain);
  EXPECT_NE(GnsValue().find("9.9.9.9/32"), std::string::npos);
  EXPECT_EQ(FeedStatus()["lastPullResult"], "Updated");
}

TEST_F(FeedPullTest, EtagGivesNotModified) {
  server_->SetRoute({.path = "/snort", .body = Fixture("firehol_snort_ipfilter.ipset"), .etag = "\"abc\""});
  CreateFeed(server_->Url("/snort"));
  StartController();
  ASSERT_TRUE(controller_->Step().ok());
  std::string good = GnsValue();
  PullAgain();
  EXPECT_EQ(server_->LastHeader("/snort", "If-None-Match"), "\"abc\"");
  EXPECT_EQ(FeedStatus()["lastPullResult"], "NotModified");
  EXPECT_EQ(GnsValue(), good);
}

TEST_F(FeedPullTest, SelfSignedCertificateIsRefusedUnlessTrusted) {
  auto tls = FeedTestServer::Start({.tls = true});
  ASSERT_TRUE(tls.ok()) << tls.error().message();
  tls_server_ = std::move(*tls);
  tls_server_->SetBody("/snort", Fixture("firehol_snort_ipfilter.ipset"));
  CreateFeed(tls_server_->Url("/snort"));
  StartController();
  ASSERT_TRUE(controller_->Step().ok());
  EXPECT_EQ(GnsValue(), "");
  EXPECT_NE(LastCondition().find("certificate"), std::string::npos) << LastCondition();
  // Trusting the server's certificate: the same feed pulls.
  options_.fetch.ca_file = tls_server_->ca_pem_file();
  StartController();
  PullAgain();
  EXPECT_NE(GnsValue().find("5.196.58.96/32"), std::string::npos);
  EXPECT_EQ(LastCondition(), "");
}

TEST_F(FeedPullTest, FileUrl) {
  std::string path = (dir_ / "snort.ipset").string();
  ASSERT_TRUE(WriteFileAtomic(path, Fixture("firehol_snort_ipfilter.ipset"), 0644).ok());
  CreateFeed("file://" + path);
  StartController();
  ASSERT_TRUE(controller_->Step().ok());
  EXPECT_NE(GnsValue().find("5.196.58.96/32"), std::string::npos);
}

// No value the store keeps is over the ChunkedStore piece size, even for a
// big feed, and the whole set reads back.
TEST_F(FeedPullTest, LargeFeedIsStoredInPieces) {
  std::string body;
  body.reserve(3 << 20);
  for (uint32_t i = 0; i < 200000; ++i) {
    uint32_t a = 0x0b000000u + i * 2;  // every other address: nothing merges
    body += std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
            "." + std::to_string(a & 255) + "\n";
  }
  server_->SetBody("/snort", body);
  CreateFeed(server_->Url("/snort"));
  StartController();
  ASSERT_TRUE(controller_->Step().ok());
  EXPECT_EQ(FeedStatus()["entries"].to_number<int64_t>(), 200000);
  std::string gns = GnsValue();
  EXPECT_GT(gns.size(), size_t{3} << 20);
  EXPECT_EQ(json::parse(gns).as_object()["spec"].as_object()["nets"].as_array().size(), 200000u);
  auto all = store_->inner().List({"threatwall.io/Blob", std::nullopt});
  ASSERT_TRUE(all.ok());
  EXPECT_GT(all->records.size(), 6u);
  for (const auto& r : all->records) EXPECT_LE(r.value.size(), size_t{512} << 10);
}

// Offline: no DNS query leaves the machine; pinned names still work.
TEST_F(FeedPullTest, OfflineModeRefusesHostNamesUnlessPinned) {
  options_.fetch.allow_dns = false;
  server_->SetBody("/snort", Fixture("firehol_snort_ipfilter.ipset"));
  std::string url = "http://feeds.threatwall.invalid:" + std::to_string(server_->port()) + "/snort";
  CreateFeed(url);
  StartController();
  ASSERT_TRUE(controller_->Step().ok());
  EXPECT_EQ(GnsValue(), "");
  EXPECT_NE(LastCondition().find("cannot resolve host feeds.threatwall.invalid: name resolution is off"),
            std::string::npos)
      << LastCondition();
  EXPECT_EQ(server_->Hits("/snort"), 0u);
  options_.fetch.pinned_hosts = {{"feeds.threatwall.invalid", "127.0.0.1"}};
  StartController();
  PullAgain();
  EXPECT_NE(GnsValue().find("5.196.58.96/32"), std::string::npos) << LastCondition();
  EXPECT_EQ(server_->Hits("/snort"), 1u);
  // A redirect to an unpinned name is refused the same way.
  server_->SetRoute({.path = "/snort", .behavior = Behavior::kRedirect,
                     .location = "http://elsewhere.threatwall.invalid/x"});
  PullAgain();
  EXPECT_NE(LastCondition().find("cannot resolve host elsewhere.threatwall.invalid"), std::string::npos)
      << LastCondition();
}

}  // namespace
}  // namespace tw::feeds
