// The Calico selector language (docs/calico-semantics.md §5): parse, match,
// print canonically.  Pure; no I/O.
//
//   auto sel = Selector::Parse("threatfeed == 'snort' && !has(x)");
//   if (!sel) ... sel.error().message() == "unexpected '=' at column 12"
//   sel->Matches(labels);  sel->String();
//
// A Selector is an immutable value, cheap to copy (shared AST), safe to use
// from many threads.
//
// Syntax errors are InvalidArgument with the message "<what went wrong> at
// column N" (N 1-based, in bytes), e.g. "unexpected '=' at column 12",
// "unterminated string at column 5", "expected ')' at column 20",
// "unexpected end of input at column 9", "newline is not allowed at column 3",
// "label longer than 512 characters at column 1",
// "expected an operator after label 'app' at column 5".
//
// Limits: labels are at most kMaxLabelLength bytes (as in Calico);
// parentheses nest at most kMaxNestingDepth deep (so no input can exhaust
// the stack).  Runs of "!" are unlimited.
//
// To walk the tree (e.g. for the policy compiler), include "selector/ast.h"
// and use root() with ForEachNode.
#ifndef TW_SELECTOR_SELECTOR_H_
#define TW_SELECTOR_SELECTOR_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tw::selector {

using Labels = std::map<std::string, std::string, std::less<>>;

// Label lookup without copying: returns the value of `key`, or nullopt.
using LabelLookup = std::function<std::optional<std::string_view>(std::string_view key)>;

struct Node;  // AST, defined in ast.h

class Selector {
 public:
  static constexpr size_t kMaxLabelLength = 512;
  static constexpr int kMaxNestingDepth = 100;

  // Parses the selector language of docs/calico-semantics.md §5.  An empty
  // or blank text is all().  InvalidArgument on a syntax error (see above).
  static Result<Selector> Parse(std::string_view text);

  // Same as Parse("all()").
  static Selector All();

  // Wraps a tree built in code (see selector/rewrite.h).  The caller keeps
  // the invariants of ast.h (kIn/kNotIn values sorted and unique, one child
  // for kNot, two or more for kAnd/kOr) and a bounded depth.  `root` must
  // not be null.
  static Selector FromTree(std::shared_ptr<const Node> root);

  // all(), like All().
  Selector() : Selector(All()) {}

  // Evaluates against a label map.  `k != s` and `k not in {...}` are TRUE
  // when k is absent; has, ==, in, contains, starts/ends with are false;
  // all() and global() are true.  && and || short-circuit.
  // An empty `lookup` function means "no labels".
  bool Matches(const Labels& labels) const;
  bool Matches(const LabelLookup& lookup) const;

  // Canonical text, printed as Calico prints it: strings re-quoted with "
  // unless they contain ", then '; single spaces around operators; set
  // members sorted and de-duplicated; every && / || group in parentheses,
  // also at the top; "!" glued to its operand:
  //   `(a == "x" && b in {"1", "2"})`, `!has(a)`, `!(a == "x" || all())`.
  // (Only where Calico's own printing does not round-trip, a "!" applied to
  // a "!" prints as `!(!has(a))`, not `!!has(a)`.)  Parsing the canonical
  // form yields an equal selector with the same String().
  std::string String() const;

  // Same canonical form (so `a=='x'` equals `a == "x"`, but `has(a) &&
  // has(b)` differs from `has(b) && has(a)`).
  bool operator==(const Selector& other) const { return String() == other.String(); }

  // The tree (see selector/ast.h); valid while this Selector (or a copy) lives.
  const Node& root() const { return *root_; }

 private:
  explicit Selector(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

}  // namespace tw::selector

#endif  // TW_SELECTOR_SELECTOR_H_
