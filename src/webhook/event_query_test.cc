#include "webhook/event_query.h"

#include <gtest/gtest.h>

namespace tw::webhook {
namespace {

namespace json = boost::json;

json::object Event() {
  return json::parse(R"({
    "id": "snort~_1700000000_6_10.244.0.5_40000_5.196.58.96_443",
    "type": "gtf_suspicious_flow",
    "severity": 100,
    "time": 1767225600,
    "origin": "Suspicious Flow",
    "source_ip": "10.244.0.5", "source_port": 40000,
    "source_namespace": "default", "source_name": "tf-ubuntu",
    "dest_ip": "5.196.58.96", "dest_port": 443,
    "mitre_ids": ["T1041", "T1090"],
    "dismissed": false,
    "host": "",
    "geo_info": {},
    "labels": null,
    "record": {"flow_action": "deny", "feeds": ["snort", "feodo"], "protocol": "tcp",
               "nested": {"deep": "x"}},
    "a.b": "literal"
  })")
      .as_object();
}

struct MatchCase {
  const char* query;
  bool match;
};

class EventQueryMatch : public ::testing::TestWithParam<MatchCase> {};

TEST_P(EventQueryMatch, OnTheSampleEvent) {
  const MatchCase& c = GetParam();
  auto q = EventQuery::Parse(c.query);
  ASSERT_TRUE(q.ok()) << c.query << ": " << q.error().message();
  EXPECT_EQ(q->Matches(Event()), c.match) << c.query << "  (parsed as: " << q->ToString() << ")";
}

INSTANTIATE_TEST_SUITE_P(
    Table, EventQueryMatch,
    ::testing::Values(
        // empty = everything (Calico: an empty selector filters nothing)
        MatchCase{"", true}, MatchCase{"   ", true},
        // equality, quoting
        MatchCase{"type = gtf_suspicious_flow", true}, MatchCase{"type=gtf_suspicious_flow", true},
        MatchCase{"type = gtf_suspicious_dns_query", false},
        MatchCase{R"("type" = "gtf_suspicious_flow")", true},
        MatchCase{"type = GTF_SUSPICIOUS_FLOW", false},  // case-sensitive
        MatchCase{"origin = \"Suspicious Flow\"", true}, MatchCase{"source_ip = 10.244.0.5", true},
        MatchCase{"source_ip = \"10.244.0.5\"", true}, MatchCase{"source_ip = 10.244.0.6", false},
        // !=, missing fields
        MatchCase{"type != gtf_suspicious_flow", false}, MatchCase{"type != waf", true},
        MatchCase{"nosuch = x", false}, MatchCase{"nosuch != x", true}, MatchCase{"labels = x", false},
        // numbers, ordering
        MatchCase{"severity = 100", true}, MatchCase{"severity = 100.0", true},
        MatchCase{"severity > 99", true}, MatchCase{"severity >= 100", true},
        MatchCase{"severity < 100", false}, MatchCase{"severity <= 100", true},
        MatchCase{"dest_port = 443", true}, MatchCase{"dest_port > 1024", false},
        MatchCase{"severity = high", false}, MatchCase{"severity > abc", false},
        MatchCase{"nosuch > 1", false}, MatchCase{"source_name > tf", true},  // string order
        MatchCase{"source_name < tf", false},
        // booleans
        MatchCase{"dismissed = false", true}, MatchCase{"dismissed = true", false},
        MatchCase{"dismissed != true", true},
        // dotted keys: nested objects and literal member names
        MatchCase{"record.flow_action = deny", true}, MatchCase{"\"record.flow_action\" = deny", true},
        MatchCase{"record.flow_action = allow", false}, MatchCase{"record.nested.deep = x", true},
        MatchCase{"record.missing.deep = x", false}, MatchCase{"a.b = literal", true},
        MatchCase{"record.flow_action.x = deny", false},
        // arrays: any element
        MatchCase{"mitre_ids = T1090", true}, MatchCase{"mitre_ids = T9999", false},
        MatchCase{"mitre_ids != T1090", false}, MatchCase{"record.feeds = snort", true},
        MatchCase{"record.feeds IN {abuse, \"feo*\"}", true},
        // wildcards
        MatchCase{"type = gtf_*", true}, MatchCase{"type = \"*_flow\"", true},
        MatchCase{"type = gtf_?", false}, MatchCase{"source_name = tf-ubunt?", true},
        MatchCase{"source_ip = 10.244.*", true}, MatchCase{"type IN {waf, \"gtf_*\"}", true},
        MatchCase{"type IN {waf, honeypod}", false}, MatchCase{"type NOTIN {waf, honeypod}", true},
        MatchCase{"type NOTIN {\"gtf_sus?icious_flow\"}", false},
        MatchCase{"type in {gtf_suspicious_flow}", true},
        MatchCase{"type notin {gtf_suspicious_flow}", false}, MatchCase{"nosuch NOTIN {a}", true},
        MatchCase{"nosuch IN {a}", false},
        // EMPTY
        MatchCase{"host EMPTY", true}, MatchCase{"geo_info EMPTY", true}, MatchCase{"labels EMPTY", true},
        MatchCase{"nosuch EMPTY", true}, MatchCase{"type EMPTY", false}, MatchCase{"NOT type empty", true},
        // boolean structure and precedence
        MatchCase{"type = gtf_suspicious_flow AND record.flow_action = deny", true},
        MatchCase{"type = gtf_suspicious_flow and record.flow_action = allow", false},
        MatchCase{"type = waf OR record.flow_action = deny", true},
        MatchCase{"type = waf || severity = 1", false},
        MatchCase{"type = gtf_suspicious_flow && severity = 100", true}, MatchCase{"NOT type = waf", true},
        MatchCase{"not type = gtf_suspicious_flow", false}, MatchCase{"! type = gtf_suspicious_flow", false},
        MatchCase{"NOT NOT type = gtf_suspicious_flow", true},
        // AND binds tighter: waf OR (flow AND allow) -> false; (waf OR flow) AND allow -> false
        MatchCase{"type = waf OR type = gtf_suspicious_flow AND record.flow_action = allow", false},
        MatchCase{"type = gtf_suspicious_flow OR type = waf AND record.flow_action = allow", true},
        MatchCase{"(type = gtf_suspicious_flow OR type = waf) AND record.flow_action = allow", false},
        MatchCase{"NOT (type = waf OR severity < 50)", true},
        MatchCase{"NOT type = gtf_suspicious_flow OR severity = 100", true},
        // keywords usable as values
        MatchCase{"source_name = and", false}, MatchCase{"\"and\" = x", false}));

struct ErrorCase {
  const char* query;
  const char* message;  // substring of the error
};

class EventQueryError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(EventQueryError, NamesThePosition) {
  const ErrorCase& c = GetParam();
  auto q = EventQuery::Parse(c.query);
  ASSERT_FALSE(q.ok()) << c.query << " parsed as " << q->ToString();
  EXPECT_TRUE(q.error().IsInvalidArgument());
  EXPECT_NE(q.error().message().find(c.message), std::string::npos)
      << c.query << " -> " << q.error().message() << "  (want: " << c.message << ")";
}

INSTANTIATE_TEST_SUITE_P(
    Table, EventQueryError,
    ::testing::Values(ErrorCase{"type =", "expected a value after '=' but found end of query at column 7"},
                      ErrorCase{"type",
                                "expected an operator (=, !=, <, <=, >, >=, IN, NOTIN, EMPTY) after field "
                                "\"type\" but found end of query at column 5"},
                      ErrorCase{"= x", "expected a field name but found '=' at column 1"},
                      ErrorCase{"type == x", "unexpected '==' (use '=') at column 6"},
                      ErrorCase{"type = x y", "unexpected 'y' at column 10"},
                      ErrorCase{"(type = x", "expected ')' but found end of query at column 10"},
                      ErrorCase{"type = x)", "unexpected ')' at column 9"},
                      ErrorCase{"type = x AND", "expected a field name but found end of query at column 13"},
                      ErrorCase{"OR type = x", "expected a field name but found 'OR' at column 1"},
                      ErrorCase{"type = \"abc", "unterminated string starting at column 8"},
                      ErrorCase{"type = \"a\\qb\"", "unknown escape '\\q' at column 10"},
                      ErrorCase{"type IN {}", "expected a value in the set but found '}' at column 10"},
                      ErrorCase{"type IN {a,}", "expected a value in the set but found '}' at column 12"},
                      ErrorCase{"type IN {a,,b}", "expected a value in the set but found ',' at column 12"},
                      ErrorCase{"type IN {a, b", "expected '}' or ',' but found end of query at column 14"},
                      ErrorCase{"type IN a, b}", "expected '{' but found 'a' at column 9"},
                      ErrorCase{"type IN NOT {a}", "expected '{' but found 'NOT' at column 9"},
                      ErrorCase{"type = x & y = z", "unexpected character '&' at column 10"},
                      ErrorCase{"type = x; y", "unexpected character ';' at column 9"},
                      ErrorCase{"\"\" = x", "empty field name at column 1"}));

TEST(EventQuery, CanonicalText) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"a = b", "a = b"},
      {"\"a\" = \"b\"", "a = b"},
      {"a=b and b=c or not d in {x, \"y z\"}", "(a = b AND b = c) OR NOT d IN {x, \"y z\"}"},
      {"a = b AND (b = c OR NOT d = e)", "a = b AND (b = c OR NOT d = e)"},
      {"a EMPTY", "a EMPTY"},
      {"a NOTIN {\"*c\", \"d?\"}", "a NOTIN {*c, d?}"},
      {"\"and\" = \"OR\"", "\"and\" = \"OR\""},
      {"a = \"q\\\"uote\"", "a = \"q\\\"uote\""},
  };
  for (const auto& c : cases) {
    auto q = EventQuery::Parse(c.in);
    ASSERT_TRUE(q.ok()) << c.in << ": " << q.error().message();
    EXPECT_EQ(q->ToString(), c.out) << c.in;
    // The canonical text parses back to itself.
    auto again = EventQuery::Parse(q->ToString());
    ASSERT_TRUE(again.ok()) << q->ToString();
    EXPECT_EQ(again->ToString(), c.out);
  }
}

TEST(EventQuery, EmptyMatchesAll) {
  EventQuery q;
  EXPECT_TRUE(q.MatchesAll());
  EXPECT_TRUE(q.Matches(json::object{}));
  EXPECT_TRUE(EventQuery::Parse("")->MatchesAll());
  EXPECT_FALSE(EventQuery::Parse("a = b")->MatchesAll());
}

TEST(EventQuery, DepthAndLengthLimits) {
  std::string deep(EventQuery::kMaxNestingDepth + 5, '(');
  deep += "a = b" + std::string(EventQuery::kMaxNestingDepth + 5, ')');
  auto q = EventQuery::Parse(deep);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message().find("nested too deeply"), std::string::npos);
  std::string nots;
  for (int i = 0; i < EventQuery::kMaxNestingDepth + 5; ++i) nots += "NOT ";
  EXPECT_FALSE(EventQuery::Parse(nots + "a = b").ok());
  EXPECT_FALSE(EventQuery::Parse("a = " + std::string(EventQuery::kMaxLength, 'x')).ok());
}

TEST(EventQuery, WildcardMatch) {
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_TRUE(WildcardMatch("a*c", "abbbc"));
  EXPECT_TRUE(WildcardMatch("a*c", "ac"));
  EXPECT_FALSE(WildcardMatch("a*c", "abcd"));
  EXPECT_TRUE(WildcardMatch("a?c", "abc"));
  EXPECT_FALSE(WildcardMatch("a?c", "ac"));
  EXPECT_TRUE(WildcardMatch("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(WildcardMatch("", "a"));
  EXPECT_TRUE(WildcardMatch("", ""));
  EXPECT_TRUE(WildcardMatch("**a", "a"));
}

}  // namespace
}  // namespace tw::webhook
