#include "selector/selector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "selector/ast.h"

namespace tw::selector {
namespace {

// ---------------------------------------------------------------------------
// Table-driven cases from testdata/selector/*.txt (format: README.md there).

struct Case {
  std::string where;  // "file.txt:12"
  std::string kind;   // match | error | canon
  std::string selector;
  std::string labels;  // match only
  std::string expected;
};

// Undoes the escapes of the case format: \t \n \r \\ \xHH; any other
// escaped character stands for itself (\, and \= in label lists).
bool Unescape(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      *out += in[i];
      continue;
    }
    if (++i == in.size()) return false;
    switch (in[i]) {
      case 't': *out += '\t'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 'x': {
        if (i + 2 >= in.size()) return false;
        std::string hex(in.substr(i + 1, 2));
        if (!std::isxdigit(static_cast<unsigned char>(hex[0])) ||
            !std::isxdigit(static_cast<unsigned char>(hex[1]))) {
          return false;
        }
        *out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        break;
      }
      default: *out += in[i]; break;
    }
  }
  return true;
}

// Splits on `sep` where it is not escaped by a backslash; escapes are kept.
std::vector<std::string> SplitUnescaped(std::string_view s, char sep) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      parts.back() += s.substr(i, 2);
      ++i;
    } else if (s[i] == sep) {
      parts.emplace_back();
    } else {
      parts.back() += s[i];
    }
  }
  return parts;
}

// "-" or "k=v,k2=v2" (escapes allowed in keys and values).
bool ParseLabels(std::string_view text, Labels* labels) {
  labels->clear();
  if (text == "-") return true;
  for (const std::string& item : SplitUnescaped(text, ',')) {
    std::vector<std::string> kv = SplitUnescaped(item, '=');
    if (kv.size() != 2) return false;
    std::string key, value;
    if (!Unescape(kv[0], &key) || !Unescape(kv[1], &value) || key.empty()) return false;
    if (!labels->emplace(key, value).second) return false;
  }
  return true;
}

constexpr std::string_view kSep = " | ";

// Parses one non-comment line; returns an error text for a malformed line.
std::string ParseLine(std::string_view line, Case* c) {
  size_t first = line.find(kSep);
  if (first == std::string_view::npos) return "no ' | ' separator";
  c->kind = std::string(line.substr(0, first));
  std::string_view rest = line.substr(first + kSep.size());
  auto take_last = [&rest](std::string* field) {
    size_t pos = rest.rfind(kSep);
    if (pos == std::string_view::npos) return false;
    *field = std::string(rest.substr(pos + kSep.size()));
    rest = rest.substr(0, pos);
    return true;
  };
  std::string raw_expected, raw_labels;
  if (!take_last(&raw_expected)) return "missing fields";
  if (c->kind == "match") {
    if (!take_last(&raw_labels)) return "missing labels field";
    if (raw_expected != "true" && raw_expected != "false") return "expected result must be true or false";
    c->labels = raw_labels;
  } else if (c->kind != "error" && c->kind != "canon") {
    return "unknown case kind '" + c->kind + "'";
  }
  if (!Unescape(rest, &c->selector)) return "bad escape in selector";
  if (!Unescape(raw_expected, &c->expected)) return "bad escape in expected field";
  return "";
}

std::vector<Case> LoadCases(std::vector<std::string>* problems, std::map<std::string, int>* per_file) {
  std::vector<Case> cases;
  const std::filesystem::path dir = std::filesystem::path(TW_SOURCE_DIR) / "testdata" / "selector";
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  if (ec) problems->push_back(dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    int line_no = 0;
    (*per_file)[file.filename().string()] = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      Case c;
      c.where = file.filename().string() + ":" + std::to_string(line_no);
      std::string problem = ParseLine(line, &c);
      if (!problem.empty()) {
        problems->push_back(c.where + ": malformed case: " + problem);
        continue;
      }
      ++(*per_file)[file.filename().string()];
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

// Parse(String()) must give back the same String().
void ExpectRoundTrip(const Case& c, const Selector& sel) {
  const std::string canon = sel.String();
  auto again = Selector::Parse(canon);
  ASSERT_TRUE(again.ok()) << c.where << ": canonical form " << canon
                          << " does not parse: " << again.error().message();
  EXPECT_EQ(again->String(), canon) << c.where << ": canonical form does not round-trip";
}

void RunCase(const Case& c) {
  auto sel = Selector::Parse(c.selector);
  if (c.kind == "error") {
    ASSERT_FALSE(sel.ok()) << c.where << ": expected error '" << c.expected << "', parsed as "
                           << sel->String();
    EXPECT_TRUE(sel.error().IsInvalidArgument()) << c.where;
    EXPECT_EQ(sel.error().message(), c.expected) << c.where;
    return;
  }
  ASSERT_TRUE(sel.ok()) << c.where << ": " << sel.error().message();
  ExpectRoundTrip(c, *sel);
  if (c.kind == "canon") {
    EXPECT_EQ(sel->String(), c.expected) << c.where;
    return;
  }
  Labels labels;
  ASSERT_TRUE(ParseLabels(c.labels, &labels)) << c.where << ": malformed labels '" << c.labels << "'";
  const bool want = c.expected == "true";
  EXPECT_EQ(sel->Matches(labels), want) << c.where << ": " << c.selector;
  // The lookup flavour and the canonical form must agree.
  LabelLookup lookup = [&labels](std::string_view key) -> std::optional<std::string_view> {
    auto it = labels.find(key);
    if (it == labels.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  EXPECT_EQ(sel->Matches(lookup), want) << c.where << ": via LabelLookup";
  auto canon = Selector::Parse(sel->String());
  ASSERT_TRUE(canon.ok()) << c.where;
  EXPECT_EQ(canon->Matches(labels), want) << c.where << ": via canonical form " << sel->String();
}

TEST(SelectorTableTest, AllCasesInTestdata) {
  std::vector<std::string> problems;
  std::map<std::string, int> per_file;
  std::vector<Case> cases = LoadCases(&problems, &per_file);
  for (const auto& p : problems) ADD_FAILURE() << p;
  // The suite must not pass by finding nothing.
  EXPECT_GE(cases.size(), 150u);
  EXPECT_GE(per_file.size(), 8u);
  for (const auto& [file, n] : per_file) EXPECT_GT(n, 0) << file << " has no cases";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.where);
    RunCase(c);
  }
}

// ---------------------------------------------------------------------------
// Plain cases.

TEST(SelectorTest, LookupIsCalledOnlyAsNeeded) {
  auto sel = Selector::Parse("a == 'x' || b == 'y'");
  ASSERT_TRUE(sel.ok());
  std::vector<std::string> asked;
  LabelLookup lookup = [&asked](std::string_view key) -> std::optional<std::string_view> {
    asked.emplace_back(key);
    if (key == "a") return std::string_view("x");
    return std::nullopt;
  };
  EXPECT_TRUE(sel->Matches(lookup));
  EXPECT_EQ(asked, std::vector<std::string>{"a"});  // || short-circuits

  asked.clear();
  auto and_sel = Selector::Parse("a == 'nope' && b == 'y'");
  ASSERT_TRUE(and_sel.ok());
  EXPECT_FALSE(and_sel->Matches(lookup));
  EXPECT_EQ(asked, std::vector<std::string>{"a"});  // && short-circuits
}

TEST(SelectorTest, EmptyLookupMeansNoLabels) {
  LabelLookup none;
  EXPECT_TRUE(Selector::Parse("a != 'x'")->Matches(none));
  EXPECT_FALSE(Selector::Parse("has(a)")->Matches(none));
  EXPECT_TRUE(Selector::Parse("")->Matches(none));
}

TEST(SelectorTest, AllIsAllAndIsShared) {
  Selector all = Selector::All();
  EXPECT_EQ(all.String(), "all()");
  EXPECT_TRUE(all.Matches(Labels{}));
  EXPECT_EQ(&Selector::All().root(), &all.root());
  Selector copy = all;
  EXPECT_EQ(&copy.root(), &all.root());
  Selector defaulted;
  EXPECT_EQ(&defaulted.root(), &all.root());
  EXPECT_TRUE(defaulted == *Selector::Parse("  "));
}

TEST(SelectorTest, EqualityIsByCanonicalForm) {
  EXPECT_TRUE(*Selector::Parse("a=='x'") == *Selector::Parse(R"(a == "x")"));
  EXPECT_TRUE(*Selector::Parse("a in {'y','x','y'}") == *Selector::Parse(R"(a in {"x", "y"})"));
  EXPECT_FALSE(*Selector::Parse("has(a) && has(b)") == *Selector::Parse("has(b) && has(a)"));
  EXPECT_FALSE(*Selector::Parse("all()") == *Selector::Parse("global()"));
}

TEST(SelectorTest, NestingUpToTheLimitParses) {
  const int n = Selector::kMaxNestingDepth;
  std::string text = std::string(n, '(') + "has(a)" + std::string(n, ')');
  auto sel = Selector::Parse(text);
  ASSERT_TRUE(sel.ok()) << sel.error().message();
  EXPECT_EQ(sel->String(), "has(a)");

  std::string nots;
  for (int i = 0; i < n; ++i) nots += "!(";
  nots += "has(a)" + std::string(n, ')');
  auto deep = Selector::Parse(nots);
  ASSERT_TRUE(deep.ok()) << deep.error().message();
  EXPECT_EQ(deep->Matches(Labels{{"a", "1"}}), n % 2 == 0);
  auto again = Selector::Parse(deep->String());
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->String(), deep->String());
}

TEST(SelectorTest, NestingBeyondTheLimitIsAnError) {
  const int n = Selector::kMaxNestingDepth + 1;
  std::string text = std::string(n, '(') + "has(a)" + std::string(n, ')');
  auto sel = Selector::Parse(text);
  ASSERT_FALSE(sel.ok());
  EXPECT_EQ(sel.error().message(), "parentheses nested deeper than 100 levels at column " +
                                       std::to_string(n));
  // Far deeper input fails the same way instead of exhausting the stack.
  auto huge = Selector::Parse(std::string(1'000'000, '('));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().message(), "parentheses nested deeper than 100 levels at column 101");
}

TEST(SelectorTest, LongNotRunsAndLongListsAreIterative) {
  auto nots = Selector::Parse(std::string(100'001, '!') + "has(a)");
  ASSERT_TRUE(nots.ok());
  EXPECT_EQ(nots->String(), "!has(a)");

  std::string many = "k0 == 'v'";
  for (int i = 1; i < 10'000; ++i) many += " || k" + std::to_string(i) + " == 'v'";
  auto sel = Selector::Parse(many);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->root().children.size(), 10'000u);
  EXPECT_TRUE(sel->Matches(Labels{{"k9999", "v"}}));
  EXPECT_FALSE(sel->Matches(Labels{{"k10000", "v"}}));
}

TEST(SelectorTest, LabelLengthLimit) {
  const std::string ok_label(Selector::kMaxLabelLength, 'a');
  auto sel = Selector::Parse("has(" + ok_label + ")");
  ASSERT_TRUE(sel.ok());
  EXPECT_TRUE(sel->Matches(Labels{{ok_label, ""}}));
  auto too_long = Selector::Parse("x == 'y' && " + ok_label + "b == 'c'");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().message(), "label longer than 512 characters at column 13");
}

TEST(SelectorTest, TreeIsWalkable) {
  auto sel = Selector::Parse(R"(a == "1" && !(b in {"y", "x", "y"} || has(c)) && d not in {})");
  ASSERT_TRUE(sel.ok());
  std::vector<std::string> seen;
  ForEachNode(sel->root(), [&seen](const Node& n) {
    std::string s(NodeKindName(n.kind));
    if (!n.label.empty()) s += ":" + n.label;
    if (!n.value.empty()) s += "=" + n.value;
    for (const auto& v : n.values) s += "," + v;
    seen.push_back(s);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"And", "Eq:a=1", "Not", "Or", "In:b,x,y", "Has:c",
                                            "NotIn:d"}));
}

TEST(SelectorTest, ErrorIsInvalidArgumentWithColumn) {
  auto sel = Selector::Parse("threatfeed = 'snort'");
  ASSERT_FALSE(sel.ok());
  EXPECT_TRUE(sel.error().IsInvalidArgument());
  EXPECT_EQ(sel.error().message(), "unexpected '=' at column 12");
}

}  // namespace
}  // namespace tw::selector
