// The selector AST: what a parsed Selector is made of, exposed read-only so
// that later stages (the policy compiler, index planning) can walk it.
//
// Nodes are built only by the parser (selector/parser.h) and are immutable
// once a Selector owns them.  The tree's depth is bounded by
// Selector::kMaxNestingDepth, so recursive walks are safe.
//
//   ForEachNode(sel.root(), [](const Node& n) {
//     if (n.kind == NodeKind::kEq) Use(n.label, n.value);
//   });
#ifndef TW_SELECTOR_AST_H_
#define TW_SELECTOR_AST_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tw::selector {

enum class NodeKind {
  kAll,         // all(): always true; also what an empty selector parses to
  kGlobal,      // global(): always true (the namespace rewrite gives it meaning)
  kHas,         // has(label)
  kEq,          // label == "value"        (false when the label is absent)
  kNe,          // label != "value"        (TRUE when the label is absent)
  kContains,    // label contains "value"  (false when absent)
  kStartsWith,  // label starts with "value"
  kEndsWith,    // label ends with "value"
  kIn,          // label in {"v1", ...}    (false when absent)
  kNotIn,       // label not in {...}      (TRUE when absent)
  kNot,         // !child
  kAnd,         // child && child && ...   (two or more children)
  kOr,          // child || child || ...   (two or more children)
};

// "All", "Has", "Eq", ... (for debugging output and tests).
std::string_view NodeKindName(NodeKind kind);

struct Node {
  NodeKind kind = NodeKind::kAll;
  // The label key: set for kHas, kEq, kNe, kContains, kStartsWith,
  // kEndsWith, kIn and kNotIn; empty otherwise.
  std::string label;
  // The string operand of kEq, kNe, kContains, kStartsWith, kEndsWith.
  std::string value;
  // The set of kIn / kNotIn: sorted bytewise and without duplicates (as
  // Calico canonicalises it); may be empty.
  std::vector<std::string> values;
  // kNot: exactly one child.  kAnd / kOr: two or more, in source order
  // (parentheses are not flattened: `(a && b) && c` is And(And(a, b), c)).
  std::vector<std::unique_ptr<const Node>> children;
};

// Calls `fn` on `root` and then on every descendant, depth first, parents
// before children, children in order.
void ForEachNode(const Node& root, const std::function<void(const Node&)>& fn);

}  // namespace tw::selector

#endif  // TW_SELECTOR_AST_H_
