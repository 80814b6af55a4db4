#include "feeds/fetch/fetcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

namespace tw::feeds {
namespace {

using fetch_internal::FetchFile;
using fetch_internal::FileUrlPath;
using fetch_internal::GunzipBounded;
using fetch_internal::HttpReasonPhrase;
using fetch_internal::HttpStatusToStatus;
using fetch_internal::LooksGzipped;
using fetch_internal::RedactUrl;
using fetch_internal::UrlScheme;

std::string Compress(std::string_view data, int window_bits = 15 + 16) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Some text that is not trivially repetitive.
std::string SampleFeed(size_t lines) {
  std::string out = "# sample feed\n";
  for (size_t i = 0; i < lines; ++i) {
    out += std::to_string(10 + i % 200) + "." + std::to_string(i % 251) + "." +
           std::to_string((i * 7) % 253) + ".0/24\n";
  }
  return out;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tw-fetcher-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, std::string_view content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- HTTP status mapping -------------------------------------------------

struct StatusCase {
  int http;
  Code code;
  const char* message;  // "" = OK
};

TEST(FetcherHttpStatus, MapsEveryClassToTheDocumentedCode) {
  const StatusCase cases[] = {
      {200, Code::kOk, ""},
      {204, Code::kOk, ""},
      {206, Code::kOk, ""},
      {304, Code::kOk, ""},
      {404, Code::kNotFound, "http://h/f: HTTP 404 Not Found"},
      {410, Code::kNotFound, "http://h/f: HTTP 410 Gone"},
      {401, Code::kPermissionDenied, "http://h/f: HTTP 401 Unauthorized"},
      {403, Code::kPermissionDenied, "http://h/f: HTTP 403 Forbidden"},
      {408, Code::kUnavailable, "http://h/f: HTTP 408 Request Timeout"},
      {429, Code::kUnavailable, "http://h/f: HTTP 429 Too Many Requests"},
      {500, Code::kUnavailable, "http://h/f: HTTP 500 Internal Server Error"},
      {503, Code::kUnavailable, "http://h/f: HTTP 503 Service Unavailable"},
      {599, Code::kUnavailable, "http://h/f: HTTP 599"},
      {400, Code::kInvalidArgument, "http://h/f: HTTP 400 Bad Request"},
      {418, Code::kInvalidArgument, "http://h/f: HTTP 418 I'm a teapot"},
      {422, Code::kInvalidArgument, "http://h/f: HTTP 422"},
      {302, Code::kInvalidArgument, "http://h/f: HTTP 302 Found (redirect without a usable Location)"},
      {100, Code::kInvalidArgument, "http://h/f: HTTP 100 (unexpected status)"},
      {700, Code::kInvalidArgument, "http://h/f: HTTP 700 (unexpected status)"},
  };
  for (const auto& c : cases) {
    Status s = HttpStatusToStatus(c.http, "http://h/f");
    EXPECT_EQ(s.code(), c.code) << c.http << ": " << s.ToString();
    EXPECT_EQ(s.message(), c.message) << c.http;
  }
}

TEST(FetcherHttpStatus, ReasonPhrases) {
  EXPECT_EQ(HttpReasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(HttpReasonPhrase(404), "Not Found");
  EXPECT_EQ(HttpReasonPhrase(299), "");
}

// ---- URLs ----------------------------------------------------------------

TEST(FetcherRedactUrl, StripsUserinfoOnly) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://user:secret@feeds.example/x.txt?k=v", "https://feeds.example/x.txt?k=v"},
      {"http://tok@127.0.0.1:8080/", "http://127.0.0.1:8080/"},
      {"http://a@b@host/path@x", "http://host/path@x"},
      {"https://host/p?q=a@b", "https://host/p?q=a@b"},
      {"file:///var/feeds/a.txt", "file:///var/feeds/a.txt"},
      {"not a url", "not a url"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(RedactUrl(in), want) << in;
}

TEST(FetcherUrlScheme, AcceptsHttpHttpsFile) {
  EXPECT_EQ(UrlScheme("http://h/x").value(), "http");
  EXPECT_EQ(UrlScheme("HTTPS://h/x").value(), "https");
  EXPECT_EQ(UrlScheme("file:///x").value(), "file");
}

TEST(FetcherUrlScheme, RejectsOthersNamingTheUrlWithoutSecrets) {
  for (const char* url :
       {"ftp://h/x", "gopher://h", "ldap://u:pw@h/x", "", "h/x", "://h/x", "1http://h", "ht tp://h"}) {
    auto r = UrlScheme(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_TRUE(r.error().IsInvalidArgument()) << url;
    EXPECT_EQ(r.error().message().find("pw@"), std::string::npos) << r.error().message();
  }
  EXPECT_NE(UrlScheme("ftp://h/x").error().message().find("unsupported scheme \"ftp\""), std::string::npos);
}

TEST(FetcherFileUrlPath, Cases) {
  EXPECT_EQ(FileUrlPath("file:///var/lib/feed.txt").value(), "/var/lib/feed.txt");
  EXPECT_EQ(FileUrlPath("FILE://localhost/var/a b").value(), "/var/a b");
  EXPECT_EQ(FileUrlPath("file:///tmp/a%20b%2Fc.gz").value(), "/tmp/a b/c.gz");
  for (const char* bad : {"file://relative/x", "file://otherhost/x", "file://", "file:///", "file:///x%zz",
                          "file:///x%0", "file:///x%00y", "http://h/x"}) {
    auto r = FileUrlPath(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.error().IsInvalidArgument()) << bad;
  }
}

// ---- gzip ----------------------------------------------------------------

TEST(FetcherGunzip, RoundTripsGzipAndZlib) {
  std::string feed = SampleFeed(5000);
  std::string gz = Compress(feed);
  EXPECT_TRUE(LooksGzipped(gz));
  EXPECT_FALSE(LooksGzipped(feed));
  EXPECT_EQ(GunzipBounded(gz, feed.size(), "x").value(), feed);  // exactly at the limit is fine
  EXPECT_EQ(GunzipBounded(Compress(feed, 15), 1 << 20, "x").value(), feed);
  EXPECT_EQ(GunzipBounded("", 10, "x").value(), "");
}

TEST(FetcherGunzip, ConcatenatedMembersAndPadding) {
  std::string a = SampleFeed(100), b = "1.2.3.4\n";
  EXPECT_EQ(GunzipBounded(Compress(a) + Compress(b), 1 << 20, "x").value(), a + b);
  EXPECT_EQ(GunzipBounded(Compress(a) + std::string(512, '\0'), 1 << 20, "x").value(), a);
}

TEST(FetcherGunzip, OverTheLimitIsTooLarge) {
  std::string bomb = Compress(std::string(8 << 20, '\0'));  // 8 MiB of zeros in a few KiB
  ASSERT_LT(bomb.size(), 64u << 10);
  auto r = GunzipBounded(bomb, 1 << 20, "bomb.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsTooLarge()) << r.error().ToString();
  EXPECT_EQ(r.error().message(), "bomb.gz: decoded body over the limit of 1048576 bytes (max_body_bytes)");
  std::string feed = SampleFeed(100);
  EXPECT_TRUE(GunzipBounded(Compress(feed), feed.size() - 1, "x").error().IsTooLarge());
}

TEST(FetcherGunzip, CorruptTruncatedTrailingAreInvalidArgument) {
  std::string gz = Compress(SampleFeed(2000));
  auto truncated = GunzipBounded(std::string_view(gz).substr(0, gz.size() / 2), 1 << 20, "t.gz");
  ASSERT_FALSE(truncated.ok());
  EXPECT_TRUE(truncated.error().IsInvalidArgument());
  EXPECT_NE(truncated.error().message().find("truncated"), std::string::npos) << truncated.error().message();

  std::string corrupt = gz;
  for (size_t i = 20; i < 60 && i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  auto bad = GunzipBounded(corrupt, 1 << 20, "c.gz");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().IsInvalidArgument()) << bad.error().ToString();

  auto trailing = GunzipBounded(gz + "garbage", 1 << 20, "g.gz");
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error().message().find("trailing garbage"), std::string::npos);

  auto plain = GunzipBounded("1.2.3.4\n", 1 << 20, "p");
  ASSERT_FALSE(plain.ok());
  EXPECT_TRUE(plain.error().IsInvalidArgument());
}

// ---- file:// -------------------------------------------------------------

FetchRequest FileRequest(const std::string& path) { return FetchRequest{"file://" + path, {}, "", ""}; }

TEST(FetcherFile, PlainGzAndMagicDetection) {
  TempDir dir;
  std::string feed = SampleFeed(3000);
  std::string gz = Compress(feed);
  FetchLimits limits;
  auto plain = FetchFile(FileRequest(dir.Write("feed.txt", feed)), limits);
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_EQ(plain->body, feed);
  EXPECT_EQ(plain->wire_bytes, feed.size());
  EXPECT_EQ(plain->http_status, 0);
  EXPECT_FALSE(plain->not_modified);
  EXPECT_EQ(plain->final_url, "file://" + dir.path() + "/feed.txt");

  auto by_name = FetchFile(FileRequest(dir.Write("feed.txt.gz", gz)), limits);
  ASSERT_TRUE(by_name.ok()) << by_name.error().ToString();
  EXPECT_EQ(by_name->body, feed);
  EXPECT_EQ(by_name->wire_bytes, gz.size());

  auto by_magic = FetchFile(FileRequest(dir.Write("feed.bin", gz)), limits);
  ASSERT_TRUE(by_magic.ok());
  EXPECT_EQ(by_magic->body, feed);

  auto empty = FetchFile(FileRequest(dir.Write("empty.txt", "")), limits);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->body, "");
}

TEST(FetcherFile, ThroughCurlFetcherToo) {
  TempDir dir;
  std::string feed = SampleFeed(10);
  CurlFetcher fetcher;
  auto r = fetcher.Fetch(FileRequest(dir.Write("a b.txt", feed)), FetchLimits());
  ASSERT_TRUE(r.ok()) << r.error().ToString();  // lenient: a raw space is taken as is
  EXPECT_EQ(r->body, feed);
  auto escaped =
      fetcher.Fetch(FetchRequest{"file://" + dir.path() + "/a%20b.txt", {}, "", ""}, FetchLimits());
  ASSERT_TRUE(escaped.ok()) << escaped.error().ToString();
  EXPECT_EQ(escaped->body, feed);
}

TEST(FetcherFile, Errors) {
  TempDir dir;
  FetchLimits limits;
  auto missing = FetchFile(FileRequest(dir.path() + "/nope.txt"), limits);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().IsNotFound());
  EXPECT_EQ(missing.error().message(), "file://" + dir.path() + "/nope.txt: no such file");

  auto is_dir = FetchFile(FileRequest(dir.path()), limits);
  ASSERT_FALSE(is_dir.ok());
  EXPECT_TRUE(is_dir.error().IsIoError()) << is_dir.error().ToString();

  limits.max_body_bytes = 1000;
  auto big = FetchFile(FileRequest(dir.Write("big.txt", std::string(1001, 'x'))), limits);
  ASSERT_FALSE(big.ok());
  EXPECT_TRUE(big.error().IsTooLarge());
  EXPECT_NE(big.error().message().find("limit of 1000 bytes"), std::string::npos);
  EXPECT_TRUE(FetchFile(FileRequest(dir.Write("fits.txt", std::string(1000, 'x'))), limits).ok());

  auto bomb = FetchFile(FileRequest(dir.Write("bomb.gz", Compress(std::string(4 << 20, 'a')))), limits);
  ASSERT_FALSE(bomb.ok());
  EXPECT_TRUE(bomb.error().IsTooLarge()) << bomb.error().ToString();

  limits.max_body_bytes = 1 << 20;
  auto not_gzip = FetchFile(FileRequest(dir.Write("plain.gz", "1.2.3.4\n")), limits);
  ASSERT_FALSE(not_gzip.ok());
  EXPECT_TRUE(not_gzip.error().IsInvalidArgument()) << not_gzip.error().ToString();

  if (geteuid() != 0) {  // root reads everything
    std::string locked = dir.Write("locked.txt", "x");
    chmod(locked.c_str(), 0);
    auto denied = FetchFile(FileRequest(locked), limits);
    ASSERT_FALSE(denied.ok());
    EXPECT_TRUE(denied.error().IsIoError());
  }
}

// ---- CurlFetcher checks that happen before any connection ----------------

TEST(FetcherCurl, RejectsBadInputBeforeConnecting) {
  CurlFetcher fetcher;
  FetchLimits limits;
  auto scheme = fetcher.Fetch(FetchRequest{"ftp://127.0.0.1:1/x", {}, "", ""}, limits);
  ASSERT_FALSE(scheme.ok());
  EXPECT_TRUE(scheme.error().IsInvalidArgument());

  FetchRequest injected{"http://127.0.0.1:1/x", {{"Authorization", "Bearer s3cret\r\nX-Evil: 1"}}, "", ""};
  auto r = fetcher.Fetch(injected, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsInvalidArgument());
  EXPECT_NE(r.error().message().find("Authorization"), std::string::npos);
  EXPECT_EQ(r.error().message().find("s3cret"), std::string::npos)
      << "a header value leaked: " << r.error().message();

  FetchRequest bad_name{"http://127.0.0.1:1/x", {{"Bad Name", "v"}}, "", ""};
  EXPECT_TRUE(fetcher.Fetch(bad_name, limits).error().IsInvalidArgument());

  limits.ca_file = "/nonexistent/ca.pem";
  auto ca = fetcher.Fetch(FetchRequest{"https://user:pw@127.0.0.1:1/x", {}, "", ""}, limits);
  ASSERT_FALSE(ca.ok());
  EXPECT_TRUE(ca.error().IsInvalidArgument());
  EXPECT_NE(ca.error().message().find("/nonexistent/ca.pem"), std::string::npos);
  EXPECT_EQ(ca.error().message().find("pw@"), std::string::npos) << ca.error().message();
}

// ---- FakeFetcher -----------------------------------------------------------

TEST(FetcherFake, QueueThenHandlerThenNotFound) {
  FakeFetcher fake;
  FetchLimits limits;
  fake.PushBody("1.2.3.4\n");
  fake.Push(Status::Unavailable("boom"));
  auto first = fake.Fetch(FetchRequest{"http://a/1", {{"k", "v"}}, "\"e1\"", ""}, limits);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->body, "1.2.3.4\n");
  EXPECT_EQ(first->http_status, 200);
  auto second = fake.Fetch(FetchRequest{"http://a/2", {}, "", ""}, limits);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.error().IsUnavailable());
  auto none = fake.Fetch(FetchRequest{"http://u:p@a/3", {}, "", ""}, limits);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.error().IsNotFound());
  EXPECT_EQ(none.error().message().find("u:p@"), std::string::npos);

  fake.SetHandler([](const FetchRequest& r) -> Result<FetchResult> {
    FetchResult result;
    result.body = r.url;
    return result;
  });
  EXPECT_EQ(fake.Fetch(FetchRequest{"http://a/4", {}, "", ""}, limits)->body, "http://a/4");
  fake.PushBody("queued wins");
  EXPECT_EQ(fake.Fetch(FetchRequest{"http://a/5", {}, "", ""}, limits)->body, "queued wins");

  ASSERT_EQ(fake.request_count(), 5u);
  auto requests = fake.requests();
  EXPECT_EQ(requests[0].url, "http://a/1");
  EXPECT_EQ(requests[0].if_none_match, "\"e1\"");
  ASSERT_EQ(requests[0].headers.size(), 1u);
  EXPECT_EQ(requests[0].headers[0].second, "v");
  EXPECT_EQ(requests[4].url, "http://a/5");
}

}  // namespace
}  // namespace tw::feeds
