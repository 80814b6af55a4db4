// End-to-end tests of threatwalld's HTTP API: the real daemon binary on a
// loopback port with a temporary data directory, driven over HTTP.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "tests/api/test_http.h"

namespace tw::test {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

const std::string kGtfs = "/apis/projectcalico.org/v3/globalthreatfeeds";

std::string Gtf(const std::string& name, const std::string& url = "https://example.com/list") {
  return R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed","metadata":{"name":")" + name +
         R"("},"spec":{"pull":{"http":{"url":")" + url + R"("}}}})";
}

std::string ConfigMap(const std::string& name, const std::string& value) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name + R"("},"data":{"v":")" + value +
         R"("}})";
}

json::value J(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

std::string At(const std::string& body, std::string_view pointer) {
  json::value v = J(body);
  boost::system::error_code ec;
  const json::value* f = v.find_pointer(pointer, ec);
  if (!f) return "<missing>";
  return f->is_string() ? std::string(f->get_string()) : json::serialize(*f);
}

class ApiIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    data_ = tmp_.path() + "/data";
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- daemon log ----\n" << ReadAll(data_ + ".log") << "--------\n";
  }
  std::unique_ptr<Daemon> StartDaemon(std::vector<std::string> args = {}) {
    auto d = std::make_unique<Daemon>(data_, std::move(args));
    EXPECT_TRUE(d->Start()) << ReadAll(data_ + ".log");
    return d;
  }
  HttpResult Do(const Daemon& d, const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& content_type = "application/json") {
    return HttpDo(d.port(), method, path, d.admin_token(), body, content_type);
  }

  TempDir tmp_;
  std::string data_;
};

TEST_F(ApiIntegrationTest, TokensAndAddressAreWrittenAndKept) {
  auto d = StartDaemon();
  struct stat st;
  ASSERT_EQ(stat(data_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const char* f : {"/admin.token", "/readonly.token"}) {
    ASSERT_EQ(stat((data_ + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  std::string admin = d->admin_token(), ro = d->readonly_token();
  EXPECT_EQ(admin.size(), 64u);
  EXPECT_EQ(admin.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(admin, ro);
  EXPECT_EQ(ReadAll(data_ + "/admin.token"), admin + "\n");
  EXPECT_EQ(ReadAll(data_ + "/address"), "http://127.0.0.1:" + std::to_string(d->port()) + "\n");
  EXPECT_EQ(d->Stop(), 0);
  auto again = StartDaemon();
  EXPECT_EQ(again->admin_token(), admin);
  EXPECT_EQ(again->readonly_token(), ro);
  EXPECT_EQ(HttpDo(again->port(), "GET", kGtfs, admin).code, 200);
  EXPECT_EQ(again->Stop(), 0);
}

TEST_F(ApiIntegrationTest, AuthenticationAndAuthorization) {
  auto d = StartDaemon();
  HttpResult none = HttpDo(d->port(), "GET", kGtfs, "");
  EXPECT_EQ(none.code, 401);
  EXPECT_EQ(At(none.body, "/reason"), "Unauthorized");
  EXPECT_EQ(At(none.body, "/kind"), "Status");
  EXPECT_EQ(HttpDo(d->port(), "GET", kGtfs, "wrong").code, 401);
  EXPECT_EQ(HttpDo(d->port(), "GET", "/apis", "").code, 401);
  HttpResult health = HttpDo(d->port(), "GET", "/healthz", "");
  EXPECT_EQ(health.code, 200);
  EXPECT_EQ(health.body, "ok");

  std::string ro = d->readonly_token();
  EXPECT_EQ(HttpDo(d->port(), "GET", kGtfs, ro).code, 200);
  EXPECT_EQ(HttpDo(d->port(), "GET", "/apis/projectcalico.org/v3", ro).code, 200);
  HttpResult forbidden = HttpDo(d->port(), "POST", kGtfs, ro, Gtf("x"));
  EXPECT_EQ(forbidden.code, 403);
  EXPECT_EQ(At(forbidden.body, "/reason"), "Forbidden");
  EXPECT_EQ(HttpDo(d->port(), "DELETE", "/apis/projectcalico.org/v3/tiers/default", ro).code, 403);
  EXPECT_EQ(Do(*d, "GET", kGtfs + "/x").code, 404);  // nothing was created
}

// kubectl sends tokens only over https: the same port speaks TLS with the
// self-signed certificate from the data dir.
TEST_F(ApiIntegrationTest, HttpsOnTheSamePortWithTheGeneratedCertificate) {
  auto d = StartDaemon();
  struct stat st;
  ASSERT_EQ(stat((data_ + "/tls.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string cmd = "curl -sS --max-time 10 --cacert " + data_ + "/tls.crt -H 'Authorization: Bearer " +
                    d->admin_token() + "' https://127.0.0.1:" + std::to_string(d->port()) +
                    "/apis/projectcalico.org/v3/tiers/default 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  EXPECT_EQ(At(out, "/spec/order"), "1000000") << out;
  // Plain HTTP still works on the same port.
  EXPECT_EQ(Do(*d, "GET", "/apis/projectcalico.org/v3/tiers/default").code, 200);
}

TEST_F(ApiIntegrationTest, DiscoveryAndBuiltins) {
  auto d = StartDaemon();
  HttpResult groups = Do(*d, "GET", "/apis");
  ASSERT_EQ(groups.code, 200);
  EXPECT_EQ(groups.Header("content-type"), "application/json");
  EXPECT_EQ(At(groups.body, "/kind"), "APIGroupList");
  EXPECT_EQ(At(Do(*d, "GET", "/apis/projectcalico.org/v3").body, "/kind"), "APIResourceList");
  EXPECT_EQ(At(Do(*d, "GET", "/api/v1").body, "/kind"), "APIResourceList");
  EXPECT_EQ(At(Do(*d, "GET", "/version").body, "/gitVersion"), "v0.1.0-threatwall");
  EXPECT_EQ(Do(*d, "GET", "/apis/apps/v1").code, 404);
  EXPECT_EQ(Do(*d, "GET", "/apis/apps/v1/deployments").code, 404);
  EXPECT_EQ(At(Do(*d, "GET", "/apis/projectcalico.org/v3/tiers/default").body, "/spec/order"), "1000000");
  EXPECT_EQ(Do(*d, "GET", "/api/v1/namespaces/default").code, 200);
}

TEST_F(ApiIntegrationTest, CrudPatchAndConflicts) {
  auto d = StartDaemon();
  HttpResult c = Do(*d, "POST", kGtfs, Gtf("snort"));
  ASSERT_EQ(c.code, 201) << c.body;
  std::string rv = At(c.body, "/metadata/resourceVersion");
  EXPECT_EQ(Do(*d, "POST", kGtfs, Gtf("snort")).code, 409);

  HttpResult g = Do(*d, "GET", kGtfs + "/snort");
  ASSERT_EQ(g.code, 200);
  EXPECT_EQ(At(g.body, "/metadata/uid"), At(c.body, "/metadata/uid"));
  HttpResult l = Do(*d, "GET", kGtfs);
  EXPECT_EQ(At(l.body, "/kind"), "GlobalThreatFeedList");
  EXPECT_EQ(At(l.body, "/items/0/metadata/name"), "snort");

  HttpResult m = Do(*d, "PATCH", kGtfs + "/snort", R"({"metadata":{"labels":{"a":"b"}}})",
                    "application/merge-patch+json");
  ASSERT_EQ(m.code, 200) << m.body;
  EXPECT_EQ(At(m.body, "/metadata/labels/a"), "b");
  HttpResult jp = Do(*d, "PATCH", kGtfs + "/snort", R"([{"op":"add","path":"/metadata/labels/c","value":"d"}])",
                     "application/json-patch+json");
  ASSERT_EQ(jp.code, 200) << jp.body;
  EXPECT_EQ(At(jp.body, "/metadata/labels/c"), "d");
  EXPECT_EQ(Do(*d, "PATCH", kGtfs + "/snort", "{}", "application/apply-patch+yaml").code, 415);

  // PUT with the stale resourceVersion of the create: 409.
  json::value stale = J(Gtf("snort", "https://other/x"));
  stale.get_object()["metadata"].get_object()["resourceVersion"] = rv;
  HttpResult conflict = Do(*d, "PUT", kGtfs + "/snort", json::serialize(stale));
  EXPECT_EQ(conflict.code, 409);
  EXPECT_EQ(At(conflict.body, "/reason"), "Conflict");
  // Without resourceVersion: unconditional.
  HttpResult put = Do(*d, "PUT", kGtfs + "/snort", Gtf("snort", "https://other/x"));
  ASSERT_EQ(put.code, 200) << put.body;
  EXPECT_EQ(At(put.body, "/spec/pull/http/url"), "https://other/x");

  HttpResult invalid = Do(*d, "POST", kGtfs, R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed",
      "metadata":{"name":"bad"},"spec":{"pull":{"http":{"url":"https://a/b"}},"nope":1}})");
  EXPECT_EQ(invalid.code, 422) << invalid.body;
  EXPECT_EQ(At(invalid.body, "/reason"), "Invalid");

  HttpResult del = Do(*d, "DELETE", kGtfs + "/snort");
  EXPECT_EQ(del.code, 200);
  EXPECT_EQ(Do(*d, "GET", kGtfs + "/snort").code, 404);
  EXPECT_EQ(Do(*d, "DELETE", kGtfs + "/snort").code, 404);
}

TEST_F(ApiIntegrationTest, BadRequestsGetStatusBodies) {
  auto d = StartDaemon();
  HttpResult bad = Do(*d, "POST", kGtfs, "{\n  \"apiVersion\": \"x\",\n  oops\n}");
  EXPECT_EQ(bad.code, 400);
  EXPECT_NE(At(bad.body, "/message").find("line 3"), std::string::npos) << bad.body;

  // Over the 32 MiB limit: refused from Content-Length, before the body.
  std::string req = "POST " + kGtfs + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + d->admin_token() +
                    "\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{";
  HttpResult big = HttpRaw(d->port(), req);
  EXPECT_EQ(big.code, 413);
  EXPECT_EQ(At(big.body, "/reason"), "RequestEntityTooLarge");

  HttpResult garbage = HttpRaw(d->port(), "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(garbage.code, 400);
  EXPECT_EQ(Do(*d, "GET", "/apis/projectcalico.org/v3/globalthreatfeeds/UPPER").code, 400);
  EXPECT_EQ(Do(*d, "POST", "/apis/projectcalico.org/v3/namespaces/dev/networksets",
               R"({"apiVersion":"projectcalico.org/v3","kind":"NetworkSet","metadata":{"name":"s"}})")
                .code,
            404);
  // Still alive and well.
  EXPECT_EQ(HttpDo(d->port(), "GET", "/healthz", "").code, 200);
}

TEST_F(ApiIntegrationTest, WatchStreamsChanges) {
  auto d = StartDaemon();
  HttpResult c = Do(*d, "POST", kGtfs, Gtf("a"));
  ASSERT_EQ(c.code, 201);
  std::string rv = At(c.body, "/metadata/resourceVersion");
  HttpStream w;
  ASSERT_TRUE(w.Open(d->port(), kGtfs + "?watch=1&resourceVersion=" + rv, d->admin_token()));
  EXPECT_EQ(w.code(), 200);
  ASSERT_EQ(Do(*d, "POST", kGtfs, Gtf("b")).code, 201);
  ASSERT_EQ(Do(*d, "PATCH", kGtfs + "/b", R"({"metadata":{"labels":{"x":"y"}}})", "application/merge-patch+json").code,
            200);
  ASSERT_EQ(Do(*d, "DELETE", kGtfs + "/a").code, 200);
  std::vector<std::string> types, names;
  for (int i = 0; i < 3; ++i) {
    auto line = w.NextLine(milliseconds(10000));
    ASSERT_TRUE(line.has_value()) << "event " << i;
    types.push_back(At(*line, "/type"));
    names.push_back(At(*line, "/object/metadata/name"));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
  EXPECT_EQ(names, (std::vector<std::string>{"b", "b", "a"}));

  // Without resourceVersion: the existing objects first; timeoutSeconds ends it.
  HttpStream w2;
  ASSERT_TRUE(w2.Open(d->port(), kGtfs + "?watch=true&timeoutSeconds=1", d->admin_token()));
  auto first = w2.NextLine(milliseconds(10000));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(At(*first, "/type"), "ADDED");
  EXPECT_EQ(At(*first, "/object/metadata/name"), "b");
  EXPECT_FALSE(w2.NextLine(milliseconds(10000)).has_value());
  EXPECT_TRUE(w2.ended());
}

TEST_F(ApiIntegrationTest, WatchFromCompactedRevisionIsGone) {
  auto d = StartDaemon({"--history-max-revisions", "10"});
  for (int i = 0; i < 40; ++i) ASSERT_EQ(Do(*d, "POST", kGtfs, Gtf("f" + std::to_string(i))).code, 201);
  HttpResult gone = Do(*d, "GET", kGtfs + "?watch=1&resourceVersion=1");
  EXPECT_EQ(gone.code, 410) << gone.body;
  EXPECT_EQ(At(gone.body, "/reason"), "Gone");
  // A recent revision still works.
  std::string rv = At(Do(*d, "GET", kGtfs).body, "/metadata/resourceVersion");
  HttpStream w;
  ASSERT_TRUE(w.Open(d->port(), kGtfs + "?watch=1&resourceVersion=" + rv, d->admin_token()));
  EXPECT_EQ(w.code(), 200);
}

TEST_F(ApiIntegrationTest, SigtermExitsCleanlyAndRestartKeepsEverything) {
  auto d = StartDaemon();
  HttpStream watch;  // an open watch must not block shutdown
  ASSERT_TRUE(watch.Open(d->port(), kGtfs + "?watch=1", d->admin_token()));
  std::map<std::string, std::string> uids;
  for (int i = 0; i < 5; ++i) {
    HttpResult c = Do(*d, "POST", kGtfs, Gtf("keep" + std::to_string(i)));
    ASSERT_EQ(c.code, 201);
    uids["keep" + std::to_string(i)] = At(c.body, "/metadata/uid");
  }
  std::string rev = At(Do(*d, "GET", kGtfs).body, "/metadata/resourceVersion");
  EXPECT_EQ(d->Stop(), 0);
  auto again = StartDaemon();
  for (const auto& [name, uid] : uids) {
    HttpResult g = Do(*again, "GET", kGtfs + "/" + name);
    ASSERT_EQ(g.code, 200) << name;
    EXPECT_EQ(At(g.body, "/metadata/uid"), uid);
  }
  HttpResult c = Do(*again, "POST", kGtfs, Gtf("after"));
  ASSERT_EQ(c.code, 201);
  EXPECT_GT(std::stoll(At(c.body, "/metadata/resourceVersion")), std::stoll(rev));
  EXPECT_EQ(again->Stop(), 0);
}

// Issue 2 item 9: acknowledged writes survive SIGKILL in the middle of a
// write storm, and the store is consistent after restart.
TEST_F(ApiIntegrationTest, AcknowledgedWritesSurviveSigkillMidStorm) {
  auto d = StartDaemon();
  const int port = d->port();
  const std::string token = d->admin_token();
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  constexpr int kThreads = 4;
  struct Acked {
    std::map<std::string, int> created;    // name -> value acknowledged by the create
    std::map<std::string, int> updated;    // name -> last acknowledged update value
    std::map<std::string, int> in_flight;  // name -> value of an unanswered update
    std::map<std::string, int> in_flight_create;
  };
  std::vector<Acked> acked(kThreads);
  std::atomic<bool> stop{false};
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Acked& mine = acked[t];
      for (int i = 0; !stop; ++i) {
        if (i % 3 == 2 && !mine.created.empty()) {
          // Update an object this thread created (sequentially: at most one
          // update per object is ever unanswered).
          std::string name = "t" + std::to_string(t) + "-" + std::to_string(i / 3 % 7);
          if (!mine.created.count(name)) continue;
          mine.in_flight[name] = i;
          HttpResult r = HttpDo(port, "PATCH", cms + "/" + name, token,
                                R"({"data":{"v":")" + std::to_string(i) + R"("}})", "application/merge-patch+json",
                                milliseconds(5000));
          if (r.code == 200) {
            mine.updated[name] = i;
            mine.in_flight.erase(name);
            ++total;
          } else if (r.code == 0) {
            break;  // daemon gone: the update stays "in flight"
          }
        } else {
          std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
          mine.in_flight_create[name] = i;
          HttpResult r = HttpDo(port, "POST", cms, token, ConfigMap(name, std::to_string(i)), "application/json",
                                milliseconds(5000));
          if (r.code == 201) {
            mine.created[name] = i;
            mine.in_flight_create.erase(name);
            ++total;
          } else if (r.code == 0) {
            break;
          }
        }
      }
    });
  }
  // Let the storm run until enough writes are acknowledged, then SIGKILL.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (total < 200 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  d->Kill();
  stop = true;
  for (auto& th : threads) th.join();
  ASSERT_GE(total.load(), 200);

  auto again = StartDaemon();
  HttpResult list = Do(*again, "GET", cms);
  ASSERT_EQ(list.code, 200);
  json::value lv = J(list.body);
  int64_t list_rev = std::stoll(std::string(lv.at("metadata").at("resourceVersion").as_string()));
  std::map<std::string, std::pair<std::string, int64_t>> stored;  // name -> (value, rv)
  for (const json::value& item : lv.at("items").as_array()) {
    std::string name(item.at("metadata").at("name").as_string());
    int64_t rv = std::stoll(std::string(item.at("metadata").at("resourceVersion").as_string()));
    EXPECT_LE(rv, list_rev) << name;
    stored[name] = {std::string(item.at("data").at("v").as_string()), rv};
  }
  int checked = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (const auto& [name, value] : acked[t].created) {
      ASSERT_TRUE(stored.count(name)) << "acknowledged create lost: " << name;
      int got = std::stoi(stored[name].first);
      int expect = acked[t].updated.count(name) ? acked[t].updated.at(name) : value;
      bool in_flight = acked[t].in_flight.count(name) && acked[t].in_flight.at(name) == got;
      EXPECT_TRUE(got == expect || in_flight) << name << ": stored " << got << ", acknowledged " << expect;
      ++checked;
    }
    // Nothing may appear that was never sent.
    for (const auto& [name, v] : stored) {
      if (name.rfind("t" + std::to_string(t) + "-", 0) != 0) continue;
      EXPECT_TRUE(acked[t].created.count(name) || acked[t].in_flight_create.count(name)) << name;
    }
  }
  EXPECT_GT(checked, 0);
  // Revisions are unique and the store keeps counting upwards.
  std::set<int64_t> revs;
  for (const auto& [name, sv] : stored) EXPECT_TRUE(revs.insert(sv.second).second) << name;
  HttpResult after = Do(*again, "POST", cms, ConfigMap("after-restart", "1"));
  ASSERT_EQ(after.code, 201) << after.body;
  EXPECT_GT(std::stoll(At(after.body, "/metadata/resourceVersion")), list_rev);
  EXPECT_EQ(again->Stop(), 0);
}

}  // namespace
}  // namespace tw::test
