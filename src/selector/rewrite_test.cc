#include "selector/rewrite.h"

#include <gtest/gtest.h>

#include <string>

#include "selector/ast.h"

namespace tw::selector {
namespace {

constexpr std::string_view kNs = "projectcalico.org/namespace";

Selector P(std::string_view text) {
  auto s = Selector::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : Selector::All();
}

// The canonical text must re-parse to the same selector: trees built in
// code print exactly like parsed ones.
void ExpectRoundTrip(const Selector& s) {
  auto again = Selector::Parse(s.String());
  ASSERT_TRUE(again.ok()) << s.String() << ": " << again.status().ToString();
  EXPECT_EQ(again->String(), s.String());
}

TEST(SelectorRewriteTest, PrefixLabelsPrefixesEveryKind) {
  Selector s = PrefixLabels(P("a == 'x' && (b != 'y' || has(c)) && d in {'2','1'} && !(e not in {'z'}) && "
                              "f contains 'q' && g starts with 'r' && h ends with 's'"),
                            "pcns.");
  EXPECT_EQ(s.String(),
            "(pcns.a == \"x\" && (pcns.b != \"y\" || has(pcns.c)) && pcns.d in {\"1\", \"2\"} && "
            "!pcns.e not in {\"z\"} && pcns.f contains \"q\" && pcns.g starts with \"r\" && "
            "pcns.h ends with \"s\")");
  ExpectRoundTrip(s);
}

TEST(SelectorRewriteTest, AllAndGlobalKeptWithoutReplacement) {
  EXPECT_EQ(PrefixLabels(P("all()"), "pcns.").String(), "all()");
  EXPECT_EQ(PrefixLabels(P("global()"), "pcns.").String(), "global()");
  EXPECT_EQ(PrefixLabels(P(""), "pcns.").String(), "all()");
}

TEST(SelectorRewriteTest, AllBecomesHasUnprefixed) {
  Selector s = PrefixLabels(P("all()"), "pcns.", kNs);
  EXPECT_EQ(s.String(), "has(projectcalico.org/namespace)");
  EXPECT_FALSE(s.Matches(Labels{}));
  EXPECT_TRUE(s.Matches(Labels{{"projectcalico.org/namespace", "a"}}));
  EXPECT_EQ(PrefixLabels(P("!all() || x == 'y'"), "pcns.", kNs).String(),
            "(!has(projectcalico.org/namespace) || pcns.x == \"y\")");
}

TEST(SelectorRewriteTest, GlobalBecomesNotHas) {
  Selector s = PrefixLabels(P("global()"), "pcns.", kNs, kNs);
  EXPECT_EQ(s.String(), "!has(projectcalico.org/namespace)");
  EXPECT_TRUE(s.Matches(Labels{{"a", "b"}}));
  EXPECT_FALSE(s.Matches(Labels{{"projectcalico.org/namespace", "x"}}));
  ExpectRoundTrip(s);
}

TEST(SelectorRewriteTest, PrefixedSelectorMatchesPrefixedLabels) {
  Selector s = PrefixLabels(P("env == 'prod'"), "pcns.");
  EXPECT_TRUE(s.Matches(Labels{{"pcns.env", "prod"}}));
  EXPECT_FALSE(s.Matches(Labels{{"env", "prod"}}));
}

TEST(SelectorRewriteTest, ReplaceAllEverywhere) {
  EXPECT_EQ(ReplaceAll(P("all() && !all()"), kNs).String(),
            "(has(projectcalico.org/namespace) && !has(projectcalico.org/namespace))");
  EXPECT_EQ(ReplaceAll(P("a == 'b'"), kNs).String(), "a == \"b\"");
}

TEST(SelectorRewriteTest, AndDropsAllAndFlattens) {
  EXPECT_EQ(And(P("all()"), P("all()")).String(), "all()");
  EXPECT_EQ(And(P("all()"), P("a == 'x'")).String(), "a == \"x\"");
  EXPECT_EQ(And(P("a == 'x'"), P("")).String(), "a == \"x\"");
  EXPECT_EQ(And(P("a == 'x'"), P("has(b)")).String(), "(a == \"x\" && has(b))");
  EXPECT_EQ(And(P("a == 'x' && has(c)"), P("has(b) && has(d)")).String(),
            "(a == \"x\" && has(c) && has(b) && has(d))");
  // An OR group stays one operand.
  Selector s = And(P("a == 'x' || has(c)"), P("has(b)"));
  EXPECT_EQ(s.String(), "((a == \"x\" || has(c)) && has(b))");
  ExpectRoundTrip(s);
  EXPECT_TRUE(s.Matches(Labels{{"c", ""}, {"b", ""}}));
  EXPECT_FALSE(s.Matches(Labels{{"c", ""}}));
}

TEST(SelectorRewriteTest, AndOfGlobalKeepsIt) {
  // global() is not all(): only the namespace rewrite gives it meaning, so
  // And must not drop it.
  EXPECT_EQ(And(P("global()"), P("has(a)")).String(), "(global() && has(a))");
}

TEST(SelectorRewriteTest, NotWrapsAndDoubleNotRoundTrips) {
  EXPECT_EQ(Not(P("has(a)")).String(), "!has(a)");
  Selector s = Not(P("!has(a)"));
  EXPECT_EQ(s.String(), "!(!has(a))");
  ExpectRoundTrip(s);
  EXPECT_TRUE(s.Matches(Labels{{"a", ""}}));
}

TEST(SelectorRewriteTest, Builders) {
  EXPECT_EQ(HasLabel("projectcalico.org/namespace").String(), "has(projectcalico.org/namespace)");
  EXPECT_EQ(LabelEquals("projectcalico.org/namespace", "ns1").String(), "projectcalico.org/namespace == \"ns1\"");
  EXPECT_EQ(LabelEquals("k", "say \"hi\"").String(), "k == 'say \"hi\"'");
  Selector in = LabelIn("sa", {"b", "a", "b"});
  EXPECT_EQ(in.String(), "sa in {\"a\", \"b\"}");
  EXPECT_TRUE(in.Matches(Labels{{"sa", "a"}}));
  EXPECT_FALSE(in.Matches(Labels{{"sa", "c"}}));
  Selector not_in = LabelNotIn("sa", {"z"});
  EXPECT_EQ(not_in.String(), "sa not in {\"z\"}");
  EXPECT_TRUE(not_in.Matches(Labels{}));
  ExpectRoundTrip(in);
}

TEST(SelectorRewriteTest, InputsAreUnchanged) {
  Selector in = P("a == 'x' && all()");
  std::string before = in.String();
  (void)PrefixLabels(in, "pcns.", kNs, kNs);
  (void)And(in, P("has(b)"));
  EXPECT_EQ(in.String(), before);
}

TEST(SelectorRewriteTest, BuiltTreeHasAstShape) {
  Selector s = And(P("a == 'x'"), P("b == 'y' && c == 'z'"));
  ASSERT_EQ(s.root().kind, NodeKind::kAnd);
  ASSERT_EQ(s.root().children.size(), 3u);
  EXPECT_EQ(s.root().children[2]->label, "c");
}

}  // namespace
}  // namespace tw::selector
