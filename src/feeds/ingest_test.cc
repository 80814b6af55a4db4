#include "feeds/ingest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "feeds/parse/domain.h"

namespace tw::feeds {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The reference: the vector parser, then every entry validated one by one
// (what `threatwall feeds parse` did before Ingest existed).
struct Reference {
  net::CidrSet ips;
  std::vector<std::string> domains;
  uint64_t data_lines = 0, valid = 0, invalid = 0, ignored = 0;
  std::vector<std::pair<uint64_t, std::string>> dropped;  // line, text: skips and invalid entries
};

Reference Compose(std::string_view body, const FeedFormat& f, Content content) {
  Reference ref;
  auto parsed = ParseFeedBody(body, f, content);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (!parsed.ok()) return ref;
  ref.data_lines = parsed->data_lines;
  ref.ignored = parsed->ignored;
  ref.invalid = parsed->skipped;
  for (const SkippedLine& s : parsed->examples) ref.dropped.emplace_back(s.line, s.text);
  net::CidrSet::Builder b;
  for (size_t i = 0; i < parsed->entries.size(); ++i) {
    std::string_view e = parsed->entries[i];
    bool ok = true;
    if (content == Content::kIPSet) {
      ok = b.AddText(e);
    } else {
      DomainResult d = NormalizeDomain(e);
      ok = d.ok();
      if (ok) ref.domains.push_back(d.name);
    }
    if (ok) {
      ++ref.valid;
    } else {
      ++ref.invalid;
      ref.dropped.emplace_back(parsed->entry_lines[i], std::string(e.substr(0, 120)));
    }
  }
  ref.ips = b.Build();
  std::sort(ref.domains.begin(), ref.domains.end());
  ref.domains.erase(std::unique(ref.domains.begin(), ref.domains.end()), ref.domains.end());
  std::stable_sort(ref.dropped.begin(), ref.dropped.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return ref;
}

void ExpectSame(std::string_view body, const FeedFormat& f, Content content) {
  Reference ref = Compose(body, f, content);
  auto r = Ingest(body, f, content);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->content, content);
  EXPECT_EQ(r->data_lines, ref.data_lines);
  EXPECT_EQ(r->entries, ref.valid);
  EXPECT_EQ(r->invalid, ref.invalid);
  EXPECT_EQ(r->ignored, ref.ignored);
  if (content == Content::kIPSet) {
    EXPECT_TRUE(r->ips == ref.ips);
    EXPECT_EQ(r->prefixes, ref.ips.ToCidrs().size());
    EXPECT_TRUE(r->domains.empty());
  } else {
    EXPECT_EQ(r->domains, ref.domains);
    EXPECT_EQ(r->prefixes, ref.domains.size());
    EXPECT_TRUE(r->ips.empty());
  }
  // The reference keeps up to 5 parser skips and all invalid entries; the
  // first 5 of them in line order are Ingest's examples.
  ASSERT_EQ(r->examples.size(), std::min<size_t>(5, ref.invalid));
  for (size_t i = 0; i < r->examples.size(); ++i) {
    EXPECT_EQ(r->examples[i].line, ref.dropped[i].first) << i;
    EXPECT_EQ(r->examples[i].text, ref.dropped[i].second) << i;
    EXPECT_FALSE(r->examples[i].reason.empty());
  }
}

// Every real feed of ../shared/feeds with its settings from the parser's
// fixture table.
TEST(FeedIngest, SameAsParseThenValidateOnSharedFeeds) {
  const fs::path dir = fs::path(TW_SOURCE_DIR) / ".." / "shared" / "feeds";
  if (!fs::exists(dir / "README.md")) GTEST_SKIP() << dir << " not present";
  std::ifstream table(fs::path(TW_SOURCE_DIR) / "testdata" / "feeds" / "fixtures.txt");
  ASSERT_TRUE(table.good());
  int files = 0;
  for (std::string line; std::getline(table, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line.substr(0, line.find("  # ")));
    std::string file, w;
    words >> file;
    FeedFormat f;
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
      }
    }
    ++files;
    std::string body = ReadAll(dir / file);
    // The feed's own content; small feeds also as the other one (the big
    // ones add seconds and no new cases).
    std::vector<Content> contents{content};
    if (body.size() < (256 << 10)) {
      contents.push_back(content == Content::kIPSet ? Content::kDomainNameSet : Content::kIPSet);
    }
    for (Content c : contents) {
      SCOPED_TRACE(file + (c == Content::kIPSet ? " as IPSet" : " as DomainNameSet"));
      ExpectSame(body, f, c);
    }
  }
  EXPECT_EQ(files, 47);
}

TEST(FeedIngest, ExamplesMergeParserSkipsAndInvalidEntriesInLineOrder) {
  IngestOptions opt;
  opt.limits.max_line_bytes = 20;
  const std::string body = "10.0.0.0\nnot-an-ip\n" + std::string(30, '1') + "\n10.0.0.1 # ok\n1.2.3.4/33\n";
  auto r = Ingest(body, FeedFormat{}, Content::kIPSet, opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->data_lines, 5u);
  EXPECT_EQ(r->entries, 2u);
  EXPECT_EQ(r->invalid, 3u);
  ASSERT_EQ(r->examples.size(), 3u);
  EXPECT_EQ(r->examples[0].line, 2u);
  EXPECT_EQ(r->examples[0].text, "not-an-ip");
  EXPECT_EQ(r->examples[0].reason, "not an IP address or CIDR");
  EXPECT_EQ(r->examples[1].line, 3u);
  EXPECT_EQ(r->examples[1].reason, "line longer than 20 bytes");
  EXPECT_EQ(r->examples[2].line, 5u);
  EXPECT_EQ(r->ips.ToText(true), "10.0.0.0/31\n");
  EXPECT_EQ(r->prefixes, 1u);
}

TEST(FeedIngest, ExamplesAreCappedAndCut) {
  IngestOptions opt;
  opt.limits.max_examples = 2;
  const std::string long_entry(300, 'x');
  auto r = Ingest(long_entry + "\nbad1\nbad2\n", FeedFormat{}, Content::kIPSet, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->invalid, 3u);
  ASSERT_EQ(r->examples.size(), 2u);
  EXPECT_EQ(r->examples[0].text.size(), 120u);
  EXPECT_EQ(r->examples[1].text, "bad1");
}

TEST(FeedIngest, DomainsAreCanonicalSortedUniqueWithReasons) {
  auto r = Ingest("0.0.0.0 Evil.COM.\n127.0.0.1 localhost\nevil.com\nhxxp://bad[.]example\nb.example\n",
                  FeedFormat{}, Content::kDomainNameSet);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->domains, (std::vector<std::string>{"b.example", "evil.com"}));
  EXPECT_EQ(r->entries, 3u);
  EXPECT_EQ(r->prefixes, 2u);
  EXPECT_EQ(r->ignored, 1u);
  EXPECT_EQ(r->invalid, 1u);
  ASSERT_EQ(r->examples.size(), 1u);
  EXPECT_EQ(r->examples[0].line, 4u);
  EXPECT_EQ(r->examples[0].reason, NormalizeDomain("hxxp://bad[.]example").reason);
}

TEST(FeedIngest, TooManyEntriesIsTooLarge) {
  IngestOptions opt;
  opt.max_entries = 3;
  for (Content c : {Content::kIPSet, Content::kDomainNameSet}) {
    auto ok = Ingest("1.1.1.1\n2.2.2.2\n3.3.3.3\n", FeedFormat{}, c, opt);
    EXPECT_TRUE(ok.ok()) << ok.status().ToString();
    auto r = Ingest("1.1.1.1\n2.2.2.2\n3.3.3.3\nbad entry\n4.4.4.4\n", FeedFormat{}, c, opt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kTooLarge);
    EXPECT_NE(r.error().message().find("more than 3 entries"), std::string::npos) << r.error().message();
  }
}

TEST(FeedIngest, ParserErrorsPassThrough) {
  IngestOptions opt;
  opt.limits.max_body_bytes = 4;
  auto big = Ingest("1.2.3.4\n", FeedFormat{}, Content::kIPSet, opt);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), Code::kTooLarge);
  FeedFormat csv;
  csv.kind = FeedFormat::Kind::kCsv;
  auto bad = Ingest("1.1.1.1\n2.2.2.2,\"x\n", csv, Content::kIPSet);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("line 2"), std::string::npos) << bad.error().message();
}

TEST(FeedIngest, JsonAndCsvEntriesOutliveTheParserScratch) {
  // JSON strings and CSV fields are parser-owned: the set must still hold them.
  FeedFormat json;
  json.kind = FeedFormat::Kind::kJson;
  json.json_path = "$.list";
  auto r = Ingest(R"({"list":["198.51.100.7", 5, "198.51.100.6", "x"]})", json, Content::kIPSet);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ips.ToText(true), "198.51.100.6/31\n");
  EXPECT_EQ(r->invalid, 2u);  // 5 (parser skip) and "x"
  FeedFormat csv;
  csv.kind = FeedFormat::Kind::kCsv;
  csv.csv.field_num = 1;
  auto d = Ingest("1,\"A.example\"\n2,b.example\n", csv, Content::kDomainNameSet);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->domains, (std::vector<std::string>{"a.example", "b.example"}));
}

// Found by fuzz/feed_csv_fuzz and feed_json_fuzz: CSV fields and JSON
// strings can be empty; they are invalid entries, not crashes or skips.
TEST(FeedIngest, EmptyCsvFieldsAndJsonStringsAreInvalidEntries) {
  FeedFormat csv;
  csv.kind = FeedFormat::Kind::kCsv;
  csv.csv.field_num = 1;
  FeedFormat json;
  json.kind = FeedFormat::Kind::kJson;
  json.json_path = "$.a";
  for (Content c : {Content::kIPSet, Content::kDomainNameSet}) {
    auto r = Ingest("x,\nx,\"\"\nx,1.2.3.4\n", csv, c);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->data_lines, 3u);
    EXPECT_EQ(r->entries, 1u);
    EXPECT_EQ(r->invalid, 2u);
    auto j = Ingest(R"({"a":["", "1.2.3.4"]})", json, c);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    EXPECT_EQ(j->entries, 1u);
    EXPECT_EQ(j->invalid, 1u);
  }
}

}  // namespace
}  // namespace tw::feeds
