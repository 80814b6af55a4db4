#include "feeds/parse/parse.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tw::feeds {
namespace {

FeedFormat Text() { return FeedFormat{}; }
FeedFormat Json(std::string path) {
  FeedFormat f;
  f.kind = FeedFormat::Kind::kJson;
  f.json_path = std::move(path);
  return f;
}
FeedFormat Csv(uint32_t field, std::string comment = "", bool header = false) {
  FeedFormat f;
  f.kind = FeedFormat::Kind::kCsv;
  f.csv.field_num = field;
  f.csv.comment_delimiter = std::move(comment);
  f.csv.header = header;
  return f;
}

std::vector<std::string> Entries(std::string_view body, const FeedFormat& f) {
  auto r = ParseFeedBody(body, f, Content::kIPSet);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  return {r->entries.begin(), r->entries.end()};
}
using V = std::vector<std::string>;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- the 47 real feeds ----

TEST(FeedParseFixtures, AllFilesInSharedFeeds) {
  const std::string dir = TW_SOURCE_DIR "/../shared/feeds";
  if (!std::filesystem::exists(dir + "/README.md")) GTEST_SKIP() << dir << " not present";
  std::ifstream table(TW_SOURCE_DIR "/testdata/feeds/fixtures.txt");
  ASSERT_TRUE(table.good());
  std::string line;
  int files = 0;
  while (std::getline(table, line)) {
    if (line.empty() || line[0] == '#') continue;
    line = line.substr(0, line.find("  # "));
    std::istringstream words(line);
    std::string file, w;
    words >> file;
    FeedFormat f;
    long expect = -1, skipped = -1;
    Content content = Content::kIPSet;
    while (words >> w) {
      size_t eq = w.find('=');
      std::string k = w.substr(0, eq), v = eq == std::string::npos ? "" : w.substr(eq + 1);
      if (k == "format") {
        f.kind = v == "csv" ? FeedFormat::Kind::kCsv
                 : v == "json" ? FeedFormat::Kind::kJson : FeedFormat::Kind::kNewlineDelimited;
      } else if (k == "path") {
        f.json_path = v;
      } else if (k == "field") {
        f.csv.field_num = std::stoul(v);
      } else if (k == "fieldname") {
        f.csv.field_name = v;
      } else if (k == "delim") {
        f.csv.column_delimiter = v == "tab" ? "\t" : v == "space" ? " " : v;
      } else if (k == "comment") {
        f.csv.comment_delimiter = v;
      } else if (k == "header") {
        f.csv.header = true;
      } else if (k == "nosize") {
        f.csv.disable_record_size_validation = true;
      } else if (k == "content") {
        content = v == "domain" ? Content::kDomainNameSet : Content::kIPSet;
      } else if (k == "expect") {
        expect = std::stol(v);
      } else if (k == "skipped") {
        skipped = std::stol(v);
      } else {
        ADD_FAILURE() << file << ": unknown setting " << k;
      }
    }
    ++files;
    SCOPED_TRACE(file);
    std::string body = ReadFile(dir + "/" + file);
    ASSERT_FALSE(body.empty() && file != "firehol_feodo.ipset");
    auto r = ParseFeedBody(body, f, content);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(static_cast<long>(r->entries.size()), expect);
    EXPECT_EQ(r->entries.size(), r->entry_lines.size());
    if (skipped >= 0) {
      EXPECT_EQ(static_cast<long>(r->skipped), skipped);
    }
    for (std::string_view e : r->entries) {
      ASSERT_FALSE(e.empty());
      ASSERT_EQ(SpaceAt(e), 0u) << e;
      ASSERT_EQ(e.find_first_of("\r\n"), std::string_view::npos) << e;
    }
  }
  EXPECT_EQ(files, 47);
}

// ---- newline quirks ----

TEST(FeedParseNewline, CrlfAndMissingFinalNewline) {
  EXPECT_EQ(Entries("1.1.1.1\r\n2.2.2.2\r\n3.3.3.3", Text()), (V{"1.1.1.1", "2.2.2.2", "3.3.3.3"}));
  EXPECT_EQ(Entries("1.1.1.1\r2.2.2.2\n", Text()), (V{"1.1.1.1", "2.2.2.2"}));
}

TEST(FeedParseNewline, CommentsWholeLineAndInline) {
  EXPECT_EQ(Entries("# head\n; semi\n! adblock\n[Adblock Plus]\n1.2.3.0/24 ; SBL1\n5.6.7.8   # ID AS1\n",
                    Text()),
            (V{"1.2.3.0/24", "5.6.7.8"}));
  EXPECT_EQ(Entries("[2001:db8::1]\n", Text()), V{"[2001:db8::1]"});  // not a section line
}

TEST(FeedParseNewline, BomNbspAndUnicodeSpaces) {
  EXPECT_EQ(Entries("\xEF\xBB\xBF" "1.1.1.1\n2.2.2.2\xE2\x80\x82\xE2\x80\x82\r\n\xC2\xA0" "3.3.3.3\xC2\xA0\n"
                    "\xE3\x80\x80" "4.4.4.4\xE2\x80\x8B\n",
                    Text()),
            (V{"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"}));
}

TEST(FeedParseNewline, HostsFileLines) {
  auto r = ParseFeedBody(
      "127.0.0.1  localhost\n::1  localhost\n255.255.255.255\tbroadcasthost\nfe00::0\tip6-localnet\n"
      "0.0.0.0 evil.example\n127.0.0.1 a.example b.example # two\n::1 ip6-loopback\n",
      Text(), Content::kDomainNameSet);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(V(r->entries.begin(), r->entries.end()), (V{"evil.example", "a.example", "b.example"}));
  EXPECT_EQ(r->ignored, 5u);
  EXPECT_EQ(r->skipped, 0u);
  EXPECT_EQ(r->entry_lines, (std::vector<uint64_t>{5, 6, 6}));
}

TEST(FeedParseNewline, IpsumTabCountAndAdblock) {
  EXPECT_EQ(Entries("1.2.3.4\t9\n5.6.7.8\t3\n", Text()), (V{"1.2.3.4", "5.6.7.8"}));
  EXPECT_EQ(Entries("||evil.example^\n||1.2.3.4^$important\n||^\n", Text()), (V{"evil.example", "1.2.3.4"}));
}

TEST(FeedParseNewline, EmptyAndHeaderOnlyBodies) {
  for (std::string_view body : {"", "\n\n", "# only a header\n#\n", "\xEF\xBB\xBF"}) {
    auto r = ParseFeedBody(body, Text(), Content::kIPSet);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->entries.empty());
    EXPECT_EQ(r->data_lines, 0u);
  }
}

TEST(FeedParseNewline, LongLineSkippedWithLineNumber) {
  ParseLimits limits;
  limits.max_line_bytes = 16;
  auto r = ParseFeedBody("1.1.1.1\n" + std::string(40, 'a') + "\n2.2.2.2\n", Text(), Content::kIPSet, limits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries.size(), 2u);
  ASSERT_EQ(r->examples.size(), 1u);
  EXPECT_EQ(r->examples[0].line, 2u);
  EXPECT_EQ(r->skipped, 1u);
}

TEST(FeedParseNewline, TerminatorMixes) {
  EXPECT_EQ(Entries("1.1.1.1\r", Text()), V{"1.1.1.1"});
  EXPECT_EQ(Entries("1.1.1.1\r\r2.2.2.2\n\r\n3.3.3.3\n\n", Text()), (V{"1.1.1.1", "2.2.2.2", "3.3.3.3"}));
  auto r = ParseFeedBody("a\rb\r\nc\n\rd", Text(), Content::kIPSet);
  ASSERT_TRUE(r.ok());
  // CR, CRLF, LF and CR each end one line: d is on line 5.
  EXPECT_EQ(r->entry_lines, (std::vector<uint64_t>{1, 2, 3, 5}));
}

TEST(FeedParseNewline, BareTokenFastPathMatchesGeneralRules) {
  // Lines that look plain but start a special form, or carry a space or a
  // comment anywhere, must still get the general treatment.
  EXPECT_EQ(Entries("!x\n[y]\n||h.example^\n|x\n1.2.3.4;c\n1.2.3.5\t7\n\x7f\n", Text()),
            (V{"h.example", "|x", "1.2.3.4", "1.2.3.5", "\x7f"}));
}

// The sink form reports entries and skips interleaved in body order, and the
// counts the vector form reports.
class Recorder final : public EntrySink {
 public:
  void Entry(std::string_view e, uint64_t line) override { log.push_back(std::to_string(line) + " " + std::string(e)); }
  void Skip(uint64_t line, std::string_view reason, std::string_view text) override {
    log.push_back(std::to_string(line) + " skip " + std::string(reason) + ": " + std::string(text));
  }
  std::vector<std::string> log;
};

TEST(FeedParse, SinkSeesEntriesAndSkipsInOrder) {
  ParseLimits limits;
  limits.max_line_bytes = 30;
  Recorder rec;
  auto counts = ParseFeedBody("1.1.1.1\n||^\n0.0.0.0 localhost b.example\n" + std::string(31, 'x') + "\nz\n", Text(),
                              Content::kIPSet, limits, rec);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(rec.log, (V{"1 1.1.1.1", "2 skip empty adblock rule: ||^", "3 b.example",
                        "4 skip line longer than 30 bytes: " + std::string(31, 'x'), "5 z"}));
  EXPECT_EQ(counts->data_lines, 5u);
  EXPECT_EQ(counts->skipped, 2u);
  EXPECT_EQ(counts->ignored, 1u);

  Recorder json;
  auto j = ParseFeedBody("{\"a\":[\"x\",1]}\n{\"b\":2}\n{\"a\":\"y\"}\n", Json("$.a"), Content::kIPSet, {}, json);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(json.log, (V{"1 x", "1 skip not a string: int64: 1", "2 skip path selects nothing: {\"b\":2}", "3 y"}));
}

TEST(FeedParse, BodySizeGuard) {
  ParseLimits limits;
  limits.max_body_bytes = 4;
  auto r = ParseFeedBody("1.2.3.4\n", Text(), Content::kIPSet, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kTooLarge);
}

// ---- JSON ----

TEST(FeedParseJson, WholeBodyArrayAndNonStrings) {
  auto r = ParseFeedBody(R"({"list":["1.1.1.1",2,null,"2.2.2.2",{"a":1}]})", Json("$.list"), Content::kIPSet);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(V(r->entries.begin(), r->entries.end()), (V{"1.1.1.1", "2.2.2.2"}));
  EXPECT_EQ(r->skipped, 3u);
  EXPECT_EQ(Entries(R"(["a","b"])", Json("$.")), (V{"a", "b"}));
  EXPECT_EQ(Entries(R"([{"ip":"a"},{"ip":"b"},{"x":1}])", Json("$[*].ip")), (V{"a", "b"}));
}

TEST(FeedParseJson, NotAnArrayIsAnError) {
  auto r = ParseFeedBody(R"({"list":{"a":1}})", Json("$.list"), Content::kIPSet);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("array of strings"), std::string::npos);
  EXPECT_FALSE(ParseFeedBody("{not json", Json("$.a"), Content::kIPSet).ok());
  EXPECT_FALSE(ParseFeedBody("[]", Json("$.a[1:2]"), Content::kIPSet).ok());
}

TEST(FeedParseJson, JsonLines) {
  auto r = ParseFeedBody("{\"cidr\":\"1.0.0.0/8\"}\r\n\n{\"cidr\":\"2.0.0.0/8\"}\n{\"type\":\"metadata\"}\n{bad\n",
                         Json("$.cidr"), Content::kIPSet);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(V(r->entries.begin(), r->entries.end()), (V{"1.0.0.0/8", "2.0.0.0/8"}));
  EXPECT_EQ(r->entry_lines, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(r->skipped, 2u);
  ASSERT_EQ(r->examples.size(), 2u);
  EXPECT_EQ(r->examples[0].line, 4u);
  EXPECT_EQ(r->examples[1].line, 5u);
}

// ---- CSV ----

TEST(FeedParseCsv, QuotesCrlfAndComments) {
  EXPECT_EQ(Entries("# id,url\r\n\"1\",\"http://a/\",\"x,y\"\r\n\"2\",\"say \"\"hi\"\"\",\"z\"\r\n", Csv(1, "#")),
            (V{"http://a/", "say \"hi\""}));
  EXPECT_EQ(Entries("a,\"multi\nline\",c\nd,e,f", Csv(1)), (V{"multi\nline", "e"}));
  EXPECT_EQ(Entries("h1,h2\n1,2\n3,4\n", Csv(1, "", true)), (V{"2", "4"}));
  EXPECT_EQ(Entries(" a , b \n", Csv(0)), (V{" a "}));  // not trimmed, as Go
}

TEST(FeedParseCsv, QuotingErrorsAbort) {
  for (std::string_view body : {"a,b\"c\n", "\"abc\"x,1\n", "\"unterminated,1\n"}) {
    auto r = ParseFeedBody(body, Csv(0), Content::kIPSet);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.error().message().find("line 1"), std::string::npos) << r.error().message();
  }
}

TEST(FeedParseCsv, RecordSizeRules) {
  auto r = ParseFeedBody("a,b\nc,d,e\n", Csv(0), Content::kIPSet);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("line 2"), std::string::npos) << r.error().message();
  FeedFormat f = Csv(2);
  f.csv.disable_record_size_validation = true;
  auto ok = ParseFeedBody("a,b\nc,d,e\n", f, Content::kIPSet);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(V(ok->entries.begin(), ok->entries.end()), V{"e"});
  EXPECT_EQ(ok->skipped, 1u);
  f = Csv(0);
  f.csv.record_size = 3;
  EXPECT_FALSE(ParseFeedBody("a,b\n", f, Content::kIPSet).ok());
}

TEST(FeedParseCsv, FieldNameAndTabs) {
  FeedFormat f = Csv(0, "#", true);
  f.csv.field_name = "dst_ip";
  f.csv.column_delimiter = "\t";
  EXPECT_EQ(Entries("\n\n# c\nfirst\tdst_ip\n1\t1.2.3.4\n2\t5.6.7.8", f), (V{"1.2.3.4", "5.6.7.8"}));
  f.csv.field_name = "nope";
  EXPECT_FALSE(ParseFeedBody("first\tdst_ip\n", f, Content::kIPSet).ok());
  f.csv.header = false;
  EXPECT_FALSE(ParseFeedBody("x\n", f, Content::kIPSet).ok());
}

TEST(FeedParseCsv, HeaderOnlyIsEmpty) {
  auto r = ParseFeedBody("\"host\",\"path\"\n", Csv(0, "#", true), Content::kIPSet);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->entries.empty());
}

}  // namespace
}  // namespace tw::feeds
