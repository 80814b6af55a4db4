// Selector transforms and builders: what Calico does to selectors before it
// matches them (docs/calico-semantics.md §4.5) -- prefixing namespace and
// service-account selectors with `pcns.` / `pcsa.`, replacing all() and
// global(), and AND-ing scopes onto rule selectors.  Pure; the results are
// ordinary Selectors (String(), Matches(), root()).
//
//   auto ns = PrefixLabels(*Selector::Parse("env == 'prod'"), "pcns.",
//                          "projectcalico.org/namespace", "projectcalico.org/namespace");
//   ns.String() == `pcns.env == "prod"`
//   And(*Selector::Parse("app == 'x'"), ns).String()
//       == `(app == "x" && pcns.env == "prod")`
//
// Trees built here are at most a few levels deeper than their inputs, so
// the depth bound of Selector::kMaxNestingDepth still holds in practice
// (every walk stays far from the stack limit).
#ifndef TW_SELECTOR_REWRITE_H_
#define TW_SELECTOR_REWRITE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "selector/selector.h"

namespace tw::selector {

// Puts `prefix` in front of every label key of `s`.  When given,
// `all_becomes_has` turns every all() into has(<that label>) and
// `global_becomes_not_has` turns every global() into !has(<that label>)
// (the labels are used as given, without the prefix); otherwise all() and
// global() are kept.
Selector PrefixLabels(const Selector& s, std::string_view prefix,
                      std::optional<std::string_view> all_becomes_has = std::nullopt,
                      std::optional<std::string_view> global_becomes_not_has = std::nullopt);

// Every all() in `s` becomes has(`label`) (Calico's textual replacement of
// "all()" in a GNP selector that has a namespaceSelector).
Selector ReplaceAll(const Selector& s, std::string_view label);

// `a && b`.  all() operands are dropped (And(all(), b) is b; And(all(),
// all()) is all()); AND groups are flattened, so And(`(x && y)`, z) prints
// `(x && y && z)`.  Matches exactly what a && b matches.
Selector And(const Selector& a, const Selector& b);

// !s.
Selector Not(const Selector& s);

// Builders for single terms (labels and values are taken verbatim; any
// bytes are fine, String() quotes as usual).
Selector HasLabel(std::string_view label);                            // has(label)
Selector LabelEquals(std::string_view label, std::string_view value);  // label == "value"
// label in {...} / label not in {...}; values sorted and de-duplicated.
Selector LabelIn(std::string_view label, std::vector<std::string> values);
Selector LabelNotIn(std::string_view label, std::vector<std::string> values);

}  // namespace tw::selector

#endif  // TW_SELECTOR_REWRITE_H_
