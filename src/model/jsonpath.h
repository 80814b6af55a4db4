// JSONPath, the subset that threat feeds use (GlobalThreatFeed
// `pull.http.format.json.path`): compile once, evaluate against parsed JSON.
//
// Supported:  `$` (the root), `$.` (also the root, as Calico's docs write it
// for a top-level array), `.name`, `['name']` / `["name"]`, `[N]` (negative
// counts from the end), `[*]` and `.*`, `..name` (every descendant member
// called name), and filters on array elements
// `[?(@.f == 'x')]`, `[?(@.a.b != 3)]`, `[?(@.f)]` (member exists) with
// ==, !=, <, <=, >, >= against a string, number, true, false or null.
// Not supported (compile error): unions, slices, script expressions.
//
// Immutable after Compile; safe to share between threads.
#ifndef TW_MODEL_JSONPATH_H_
#define TW_MODEL_JSONPATH_H_

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::model {

class JsonPath {
 public:
  // InvalidArgument naming the 1-based column: "expected ']' at column 7".
  static Result<JsonPath> Compile(std::string_view text);

  // Every value the path selects, in document order.  Pointers into `root`.
  std::vector<const boost::json::value*> Evaluate(const boost::json::value& root) const;

  const std::string& text() const { return text_; }

 private:
  struct Step {
    enum class Kind { kMember, kIndex, kWildcard, kDescendant, kFilter } kind = Kind::kMember;
    std::string name;                 // kMember, kDescendant
    int64_t index = 0;                // kIndex
    // kFilter: @.<filter_path> [<op> <literal>]
    std::vector<std::string> filter_path;
    std::string op;                   // empty = existence test
    boost::json::value literal;
  };

  static bool FilterMatches(const Step& step, const boost::json::value& v);

  std::string text_;
  std::vector<Step> steps_;
};

}  // namespace tw::model

#endif  // TW_MODEL_JSONPATH_H_
