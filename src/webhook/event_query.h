// EventQuery: Calico's security-event query language (the `spec.query` of a
// SecurityEventWebhook, the `spec.selector` of an AlertException), parsed
// once and evaluated on event JSON objects.  Pure.
//
// Grammar (Calico libcalico-go/lib/validator/v3/query, plus the leniencies
// marked "ours"):
//   query   := <empty> | or
//   or      := and { ("OR" | "or" | "||") and }
//   and     := unary { ("AND" | "and" | "&&") unary }
//   unary   := ("NOT" | "not" | "!") unary | primary
//   primary := "(" or ")"
//            | key ("=" | "!=" | "<" | "<=" | ">" | ">=") value
//            | key ("IN" | "in" | "NOTIN" | "notin") "{" value { "," value } "}"
//            | key ("EMPTY" | "empty")
//   key, value := a bare word or a double-quoted string (escapes: \" \\ \n
//            \t \r).
// Calico's bare words are Go identifiers; ours also take . - : / @ + * ?
// so `record.flow_action = deny`, `source_ip = 10.0.0.1` and
// `name IN {gtf_*}` need no quotes (every query Calico accepts means the
// same here).  Keywords are reserved in exactly the spellings above (quote
// a key named "and").  AND binds tighter than OR; NOT tightest.
// An empty (or all-blank) query matches every event, as in Calico (the
// webhook controller hands an empty selector to Linseed: no filter).
//
// Evaluation on an event object (Elasticsearch semantics, as Linseed runs
// these queries):
//  * A key is first looked up as a member name as written; failing that a
//    dotted key walks nested objects ("record.flow_action").
//  * `=`: strings compare exactly (case-sensitive); a value holding `*`
//    (any run) or `?` (one byte) is a wildcard pattern.  Numbers compare
//    numerically (the value must parse as a number), booleans against
//    "true"/"false".  An array field matches when any element does.  A
//    missing or null field never matches.
//  * `!=` is NOT `=` (so a missing field matches).
//  * `<` `<=` `>` `>=`: numeric when both sides are numbers, else a
//    bytewise string comparison; a missing field never matches.
//  * `IN {...}`: `=` against any member (wildcards allowed); NOTIN is
//    NOT IN.  `EMPTY`: missing, null, "", [] or {}.
//
// Errors are InvalidArgument naming the 1-based column:
//   "query: unexpected ')' at column 12", "query: unterminated string
//   starting at column 9", "query: expected '}' or ',' at column 20".
#ifndef TW_WEBHOOK_EVENT_QUERY_H_
#define TW_WEBHOOK_EVENT_QUERY_H_

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::webhook {

class EventQuery {
 public:
  // Depth guard: deeper nesting (parentheses, NOT chains) is an error.
  static constexpr int kMaxNestingDepth = 64;
  // Longer query text is an error.
  static constexpr size_t kMaxLength = 16 * 1024;

  // Matches everything (the empty query).
  EventQuery();
  static Result<EventQuery> Parse(std::string_view text);

  bool Matches(const boost::json::object& event) const;
  // True for the empty query.
  bool MatchesAll() const { return root_ == nullptr; }
  // Canonical text: `a = b AND (c = d OR NOT e IN {"x*", y})`; values and
  // keys quoted when they are not plain words.  "" for the empty query.
  std::string ToString() const;

  struct Node;

 private:
  explicit EventQuery(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;  // null = match all
};

// Shell-style match of `text` against `pattern` (`*` any run, `?` one byte,
// everything else literal).  Exposed for tests.
bool WildcardMatch(std::string_view pattern, std::string_view text);

// The value at `key` in `event`: the member named `key`, else the dotted
// path through nested objects; nullptr when absent.
const boost::json::value* LookupField(const boost::json::object& event, std::string_view key);

}  // namespace tw::webhook

#endif  // TW_WEBHOOK_EVENT_QUERY_H_
