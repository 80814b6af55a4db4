#include "selector/rewrite.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "selector/ast.h"

namespace tw::selector {
namespace {

using MutableNode = std::unique_ptr<Node>;

struct Transform {
  std::string_view prefix;
  std::optional<std::string_view> all_becomes_has;
  std::optional<std::string_view> global_becomes_not_has;
};

MutableNode MakeHas(std::string_view label) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kHas;
  n->label = std::string(label);
  return n;
}

MutableNode MakeNot(std::unique_ptr<const Node> child) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kNot;
  n->children.push_back(std::move(child));
  return n;
}

// Copies `node` applying `t`.  Recursion depth is the tree's, which the
// parser bounds.
MutableNode Copy(const Node& node, const Transform& t) {
  if (node.kind == NodeKind::kAll && t.all_becomes_has) return MakeHas(*t.all_becomes_has);
  if (node.kind == NodeKind::kGlobal && t.global_becomes_not_has) return MakeNot(MakeHas(*t.global_becomes_not_has));
  auto n = std::make_unique<Node>();
  n->kind = node.kind;
  if (!node.label.empty()) n->label = std::string(t.prefix) + node.label;
  n->value = node.value;
  n->values = node.values;
  n->children.reserve(node.children.size());
  for (const auto& child : node.children) n->children.push_back(Copy(*child, t));
  return n;
}

Selector Wrap(MutableNode n) { return Selector::FromTree(std::shared_ptr<const Node>(std::move(n))); }

// Moves the terms of `node` into `out`: an AND group contributes its
// children (flattening), all() contributes nothing.
void AppendConjuncts(const Node& node, std::vector<std::unique_ptr<const Node>>& out) {
  if (node.kind == NodeKind::kAll) return;
  if (node.kind == NodeKind::kAnd) {
    for (const auto& child : node.children) out.push_back(Copy(*child, Transform{}));
    return;
  }
  out.push_back(Copy(node, Transform{}));
}

Selector SetTerm(NodeKind kind, std::string_view label, std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->label = std::string(label);
  n->values = std::move(values);
  return Wrap(std::move(n));
}

}  // namespace

Selector PrefixLabels(const Selector& s, std::string_view prefix, std::optional<std::string_view> all_becomes_has,
                      std::optional<std::string_view> global_becomes_not_has) {
  return Wrap(Copy(s.root(), Transform{prefix, all_becomes_has, global_becomes_not_has}));
}

Selector ReplaceAll(const Selector& s, std::string_view label) {
  return Wrap(Copy(s.root(), Transform{"", label, std::nullopt}));
}

Selector And(const Selector& a, const Selector& b) {
  std::vector<std::unique_ptr<const Node>> terms;
  AppendConjuncts(a.root(), terms);
  AppendConjuncts(b.root(), terms);
  if (terms.empty()) return Selector::All();
  if (terms.size() == 1) return Selector::FromTree(std::shared_ptr<const Node>(std::move(terms[0])));
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kAnd;
  n->children = std::move(terms);
  return Wrap(std::move(n));
}

Selector Not(const Selector& s) { return Wrap(MakeNot(Copy(s.root(), Transform{}))); }

Selector HasLabel(std::string_view label) { return Wrap(MakeHas(label)); }

Selector LabelEquals(std::string_view label, std::string_view value) {
  auto n = std::make_unique<Node>();
  n->kind = NodeKind::kEq;
  n->label = std::string(label);
  n->value = std::string(value);
  return Wrap(std::move(n));
}

Selector LabelIn(std::string_view label, std::vector<std::string> values) {
  return SetTerm(NodeKind::kIn, label, std::move(values));
}

Selector LabelNotIn(std::string_view label, std::vector<std::string> values) {
  return SetTerm(NodeKind::kNotIn, label, std::move(values));
}

}  // namespace tw::selector
