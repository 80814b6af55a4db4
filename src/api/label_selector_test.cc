#include "api/label_selector.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "base/strings.h"

namespace tw::api {
namespace {
namespace json = boost::json;

struct Line {
  int number;
  std::string kind;
  std::vector<std::string> fields;
};

std::vector<Line> LoadLines() {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/api/label_selectors.txt");
  EXPECT_TRUE(in) << "cannot open testdata/api/label_selectors.txt";
  std::vector<Line> lines;
  std::string text;
  int n = 0;
  while (std::getline(in, text)) {
    ++n;
    if (text.empty() || text[0] == '#') continue;
    size_t colon = text.find(": ");
    EXPECT_NE(colon, std::string::npos) << "line " << n;
    if (colon == std::string::npos) continue;
    Line line{n, text.substr(0, colon), {}};
    std::string rest = text.substr(colon + 2);
    for (size_t start = 0;;) {
      size_t bar = rest.find(" | ", start);
      line.fields.emplace_back(rest.substr(start, bar == std::string::npos ? bar : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 3;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string Selector(const std::string& field) { return field == "<empty>" ? "" : field; }

TEST(LabelSelectorTest, TestdataCases) {
  std::vector<Line> lines = LoadLines();
  int counts[5] = {};
  for (const Line& l : lines) {
    SCOPED_TRACE("label_selectors.txt:" + std::to_string(l.number));
    ASSERT_GE(l.fields.size(), 2u);
    std::string sel = Selector(l.fields[0]);
    if (l.kind == "match") {
      ++counts[0];
      ASSERT_EQ(l.fields.size(), 3u);
      auto s = LabelSelector::Parse(sel);
      ASSERT_TRUE(s.ok()) << s.error().ToString();
      json::value labels = json::parse(l.fields[1]);
      bool got = s->Matches(labels.is_null() ? nullptr : &labels.get_object());
      EXPECT_EQ(got, l.fields[2] == "true") << sel << " on " << l.fields[1];
    } else if (l.kind == "error") {
      ++counts[1];
      auto s = LabelSelector::Parse(sel);
      ASSERT_FALSE(s.ok()) << sel << " parsed as " << s->ToString();
      EXPECT_TRUE(s.error().IsInvalidArgument());
      EXPECT_NE(s.error().message().find(l.fields[1]), std::string::npos)
          << "message: " << s.error().message() << "\nwant: " << l.fields[1];
    } else if (l.kind == "canon") {
      ++counts[2];
      auto s = LabelSelector::Parse(sel);
      ASSERT_TRUE(s.ok()) << s.error().ToString();
      EXPECT_EQ(s->ToString(), Selector(l.fields[1]));
      // The canonical form parses back to itself.
      auto again = LabelSelector::Parse(s->ToString());
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->ToString(), s->ToString());
    } else if (l.kind == "field") {
      ++counts[3];
      ASSERT_EQ(l.fields.size(), 3u);
      auto s = FieldSelector::Parse(sel);
      ASSERT_TRUE(s.ok()) << s.error().ToString();
      json::value obj = json::parse(l.fields[1]);
      EXPECT_EQ(s->Matches(obj.get_object()), l.fields[2] == "true") << sel << " on " << l.fields[1];
    } else if (l.kind == "ferror") {
      ++counts[4];
      auto s = FieldSelector::Parse(sel);
      ASSERT_FALSE(s.ok()) << sel;
      EXPECT_NE(s.error().message().find(l.fields[1]), std::string::npos)
          << "message: " << s.error().message() << "\nwant: " << l.fields[1];
    } else {
      ADD_FAILURE() << "unknown case kind " << l.kind;
    }
  }
  EXPECT_GE(counts[0], 30);
  EXPECT_GE(counts[1], 20);
  EXPECT_GE(counts[2], 3);
  EXPECT_GE(counts[3], 10);
  EXPECT_GE(counts[4], 3);
}

TEST(LabelSelectorTest, EmptySelectsEverything) {
  auto s = LabelSelector::Parse("   ");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Empty());
  EXPECT_TRUE(s->Matches(nullptr));
}

TEST(LabelSelectorTest, NeverCrashesOnJunk) {
  // Every prefix of a tricky selector either parses or fails cleanly.
  std::string text = "a in (x,,y),!b,c notin (),d>3,e==f,g!=h,(),=!<>";
  for (size_t i = 0; i <= text.size(); ++i) {
    auto s = LabelSelector::Parse(text.substr(0, i));
    if (s.ok()) (void)s->Matches(nullptr);
  }
}

}  // namespace
}  // namespace tw::api
