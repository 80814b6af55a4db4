// The Calico selector language (docs/calico-semantics.md §5): parse, match,
// print canonically.  Pure; no I/O.
//
//   auto sel = Selector::Parse("threatfeed == 'snort' && !has(x)");
//   if (!sel) ... sel.error().message() == "unexpected '=' at column 12"
//   sel->Matches(labels);  sel->String();
//
// A Selector is an immutable value, cheap to copy (shared AST), safe to use
// from many threads.
#ifndef TW_SELECTOR_SELECTOR_H_
#define TW_SELECTOR_SELECTOR_H_

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
  // InvalidArgument on a syntax error; the message names the 1-based column
  // and what was found: "unexpected '=' at column 12", "unterminated string
  // at column 5", "expected ')' at column 20 (end of input)".
  static Result<Selector> Parse(std::string_view text);

  // Same as Parse("all()").
  static Selector All();

  bool Matches(const Labels& labels) const;
  bool Matches(const LabelLookup& lookup) const;

  // Canonical text: Calico's canonical printing (strings re-quoted with "
  // unless they contain ", then '); `a == "x" && b in {"1", "2"}`.  Parsing
  // the canonical form yields an equal selector with the same String().
  std::string String() const;

  const Node& root() const { return *root_; }

 private:
  explicit Selector(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

}  // namespace tw::selector

#endif  // TW_SELECTOR_SELECTOR_H_
