#include "selector/ast.h"

namespace tw::selector {

std::string_view NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kAll: return "All";
    case NodeKind::kGlobal: return "Global";
    case NodeKind::kHas: return "Has";
    case NodeKind::kEq: return "Eq";
    case NodeKind::kNe: return "Ne";
    case NodeKind::kContains: return "Contains";
    case NodeKind::kStartsWith: return "StartsWith";
    case NodeKind::kEndsWith: return "EndsWith";
    case NodeKind::kIn: return "In";
    case NodeKind::kNotIn: return "NotIn";
    case NodeKind::kNot: return "Not";
    case NodeKind::kAnd: return "And";
    case NodeKind::kOr: return "Or";
  }
  return "?";
}

void ForEachNode(const Node& root, const std::function<void(const Node&)>& fn) {
  // Recursion is fine: the parser caps the depth (Selector::kMaxNestingDepth).
  fn(root);
  for (const auto& child : root.children) ForEachNode(*child, fn);
}

}  // namespace tw::selector
