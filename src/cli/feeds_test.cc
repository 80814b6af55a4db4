// `threatwall feeds parse`: the offline dry run of a feed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "cli/commands.h"

namespace tw::cli {
namespace {

struct Out {
  int code;
  std::string out, err;
};

Out RunCli(std::vector<std::string> args) {
  std::ostringstream out, err;
  ConfigInputs in;
  in.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  int code = Run(args, out, err, in);
  return {code, out.str(), err.str()};
}

const std::string kFeeds = std::string(TW_SOURCE_DIR) + "/../shared/feeds/";

class FeedsParseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tw-feeds-parse-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(FeedsParseTest, Level4IsByteIdenticalToIprange) {
  if (!std::filesystem::exists(kFeeds)) GTEST_SKIP() << "no ../shared/feeds";
  Out r = RunCli({"feeds", "parse", kFeeds + "firehol_level4.netset"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto golden = ReadFile(std::string(TW_SOURCE_DIR) + "/testdata/net/iprange_firehol_level4.netset.golden");
  ASSERT_TRUE(golden.ok());
  EXPECT_TRUE(r.out == *golden) << "output differs from iprange's";
  EXPECT_NE(r.err.find("190953 entries read"), std::string::npos) << r.err;
}

TEST_F(FeedsParseTest, MergesNormalisesAndReportsInvalidEntries) {
  std::string feed = Write("f.txt",
                           "# header\r\n10.0.0.1\r\n10.0.0.0/31 # inline\r\n10.0.0.2\n10.0.0.3/30\n"
                           "::ffff:192.0.2.1\n2001:db8::1\n101.200.143[.]89\n; spamhaus-style\n"
                           "192.0.2.0/32\n10.1.2.3/8");
  Out r = RunCli({"feeds", "parse", "file://" + feed});
  ASSERT_EQ(r.code, 0) << r.err;
  // ::ffff:192.0.2.1 is 192.0.2.1, which merges with 192.0.2.0/32.
  EXPECT_EQ(r.out, "10.0.0.0/8\n192.0.2.0/31\n2001:db8::1\n");
  EXPECT_NE(r.err.find("1 invalid entries dropped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 8: 101.200.143[.]89"), std::string::npos) << r.err;
}

TEST_F(FeedsParseTest, DomainsAreCanonicalSortedAndUnique) {
  std::string feed = Write("d.txt", "0.0.0.0 Evil.COM.\n127.0.0.1 localhost\nevil.com\nxn--bcher-kva.example\n");
  Out r = RunCli({"feeds", "parse", "--content", "DomainNameSet", feed});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "bücher.example\nevil.com\n");
}

TEST_F(FeedsParseTest, CsvAndJsonSettingsAreTheManifestsOnes) {
  std::string csv = Write("c.csv", "# c\nfirst_seen,ip\n2020,192.0.2.9\n2021,\"192.0.2.10\"\n");
  Out r = RunCli({"feeds", "parse", "--format", "csv", "--field-name", "ip", "--header", "--comment-delimiter", "#", csv});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "192.0.2.9\n192.0.2.10\n");
  std::string js = Write("j.json", R"({"list":["198.51.100.7", 5, "198.51.100.6"]})");
  r = RunCli({"feeds", "parse", "--format", "json", "--path", "$.list", js});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "198.51.100.6/31\n");
  // Settings a manifest could not have are refused the same way.
  r = RunCli({"feeds", "parse", "--format", "csv", "--field-name", "ip", csv});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("spec.pull.http.format.csv.fieldName"), std::string::npos) << r.err;
}

TEST_F(FeedsParseTest, SummaryCountsParserSkipsAndInvalidEntriesTogether) {
  std::string feed = Write("s.txt", "||^\n10.0.0.1\n10.0.0.1\nnope\n127.0.0.1 localhost\n");
  Out r = RunCli({"feeds", "parse", feed});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "10.0.0.1\n");
  EXPECT_NE(r.err.find(": 2 entries read from 5 data lines; 1 prefixes kept"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 localhost-style hosts-file names ignored"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 invalid entries dropped:\n  line 1: ||^ (empty adblock rule)\n"
                       "  line 4: nope (not an IP address or CIDR)\n"),
            std::string::npos)
      << r.err;
}

TEST_F(FeedsParseTest, EmptyFileIsAnEmptyFeed) {
  Out r = RunCli({"feeds", "parse", Write("empty.txt", "")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("0 entries read from 0 data lines; 0 prefixes kept"), std::string::npos) << r.err;
}

TEST_F(FeedsParseTest, RemoteUrlsAndMissingFilesAreClearErrors) {
  // A URL is fetched like the daemon does (port 1 on loopback: refused).
  Out r = RunCli({"feeds", "parse", "http://127.0.0.1:1/ip-block-list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("http://127.0.0.1:1/ip-block-list: connection refused"), std::string::npos) << r.err;
  r = RunCli({"feeds", "parse", "gopher://127.0.0.1/x"});
  EXPECT_EQ(r.code, 1);
  r = RunCli({"feeds", "parse", dir_});  // a directory: not mappable, and read() fails
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(dir_), std::string::npos) << r.err;
  r = RunCli({"feeds", "parse", dir_ + "/missing.txt"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.txt"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tw::cli
