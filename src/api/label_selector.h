// Kubernetes label selectors and field selectors as used in list/watch URLs
// (`?labelSelector=a=b,c!=d,e in (x,y),f notin (z),g,!h` and
// `?fieldSelector=metadata.name=x`).  Not the Calico selector language
// (that is src/selector/).
//
// Immutable values, thread-compatible.
#ifndef TW_API_LABEL_SELECTOR_H_
#define TW_API_LABEL_SELECTOR_H_

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::api {

// apimachinery's labels.Parse syntax: comma-separated requirements, all of
// which must hold:
//   key=value  key==value  key!=value   (!= also matches a missing key)
//   key in (v1,v2)  key notin (v1,v2)   (notin also matches a missing key)
//   key   !key                          (exists / does not exist)
//   key>N  key<N                        (integer compare; missing = no match)
// Keys are label keys ([prefix/]name, validated as Kubernetes does); values
// are label values (may be empty).  The empty text selects everything.
// Errors are InvalidArgument with apimachinery's wording, e.g.
//   "unable to parse requirement: found '', expected: identifier"
//   "unable to parse requirement: values[0][app]: Invalid value: \"a b\": ..."
class LabelSelector {
 public:
  static Result<LabelSelector> Parse(std::string_view text);

  // `labels` is metadata.labels (a map of strings); nullptr = no labels.
  // Non-string label values never match a value requirement.
  bool Matches(const boost::json::object* labels) const;

  bool Empty() const { return requirements_.empty(); }
  // Canonical text (apimachinery's String()): requirements sorted by key,
  // `in`/`notin` values sorted, e.g. "a=b,c notin (x,y),!d".
  std::string ToString() const;

 private:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted, unique
  };
  friend class LabelSelectorParser;

  std::vector<Requirement> requirements_;
};

// Field selectors: comma-separated `field=value`, `field==value`,
// `field!=value` over `metadata.name` and `metadata.namespace` (the fields
// every Kubernetes kind supports).  Other fields are rejected as the API
// server does: `"spec.x" is not a known field selector: only
// "metadata.name", "metadata.namespace"`.  `\,` `\=` `\!` `\\` escapes in
// values as in apimachinery's fields.ParseSelector.
class FieldSelector {
 public:
  static Result<FieldSelector> Parse(std::string_view text);

  // `object` is a whole resource; a missing field compares as "".
  bool Matches(const boost::json::object& object) const;

  bool Empty() const { return terms_.empty(); }

 private:
  struct Term {
    std::string field;  // "metadata.name" or "metadata.namespace"
    bool negate = false;
    std::string value;
  };
  std::vector<Term> terms_;
};

}  // namespace tw::api

#endif  // TW_API_LABEL_SELECTOR_H_
