#include "selector/selector.h"

#include <algorithm>

#include "selector/ast.h"
#include "selector/parser.h"

namespace tw::selector {
namespace {

// One evaluator for both lookup flavours; the map version avoids the cost
// of a std::function call per label.
template <typename Lookup>
bool Eval(const Node& node, const Lookup& get) {
  switch (node.kind) {
    case NodeKind::kAll:
    case NodeKind::kGlobal: return true;
    case NodeKind::kHas: return get(node.label).has_value();
    case NodeKind::kEq: {
      std::optional<std::string_view> v = get(node.label);
      return v && *v == node.value;
    }
    case NodeKind::kNe: {
      std::optional<std::string_view> v = get(node.label);
      return !v || *v != node.value;
    }
    case NodeKind::kContains: {
      std::optional<std::string_view> v = get(node.label);
      return v && v->find(node.value) != std::string_view::npos;
    }
    case NodeKind::kStartsWith: {
      std::optional<std::string_view> v = get(node.label);
      return v && v->starts_with(node.value);
    }
    case NodeKind::kEndsWith: {
      std::optional<std::string_view> v = get(node.label);
      return v && v->ends_with(node.value);
    }
    case NodeKind::kIn:
    case NodeKind::kNotIn: {
      std::optional<std::string_view> v = get(node.label);
      if (!v) return node.kind == NodeKind::kNotIn;
      bool found = std::binary_search(node.values.begin(), node.values.end(), *v,
                                      [](std::string_view a, std::string_view b) { return a < b; });
      return found == (node.kind == NodeKind::kIn);
    }
    case NodeKind::kNot: return !Eval(*node.children[0], get);
    case NodeKind::kAnd:
      for (const auto& child : node.children) {
        if (!Eval(*child, get)) return false;
      }
      return true;
    case NodeKind::kOr:
      for (const auto& child : node.children) {
        if (Eval(*child, get)) return true;
      }
      return false;
  }
  return false;
}

void AppendQuoted(std::string_view s, std::string& out) {
  const char quote = s.find('"') == std::string_view::npos ? '"' : '\'';
  out += quote;
  out += s;
  out += quote;
}

void Print(const Node& node, std::string& out) {
  auto comparison = [&](std::string_view op) {
    out += node.label;
    out += op;
    AppendQuoted(node.value, out);
  };
  auto set = [&](std::string_view op) {
    out += node.label;
    out += op;
    out += '{';
    for (size_t i = 0; i < node.values.size(); ++i) {
      if (i > 0) out += ", ";
      AppendQuoted(node.values[i], out);
    }
    out += '}';
  };
  auto list = [&](std::string_view sep) {
    out += '(';
    for (size_t i = 0; i < node.children.size(); ++i) {
      if (i > 0) out += sep;
      Print(*node.children[i], out);
    }
    out += ')';
  };
  switch (node.kind) {
    case NodeKind::kAll: out += "all()"; return;
    case NodeKind::kGlobal: out += "global()"; return;
    case NodeKind::kHas:
      out += "has(";
      out += node.label;
      out += ')';
      return;
    case NodeKind::kEq: comparison(" == "); return;
    case NodeKind::kNe: comparison(" != "); return;
    case NodeKind::kContains: comparison(" contains "); return;
    case NodeKind::kStartsWith: comparison(" starts with "); return;
    case NodeKind::kEndsWith: comparison(" ends with "); return;
    case NodeKind::kIn: set(" in "); return;
    case NodeKind::kNotIn: set(" not in "); return;
    case NodeKind::kNot: {
      const Node& child = *node.children[0];
      out += '!';
      // Calico prints "!!x" here, which re-parses as x: keep the parentheses
      // so the canonical form round-trips.
      if (child.kind == NodeKind::kNot) {
        out += '(';
        Print(child, out);
        out += ')';
      } else {
        Print(child, out);
      }
      return;
    }
    case NodeKind::kAnd: list(" && "); return;
    case NodeKind::kOr: list(" || "); return;
  }
}

}  // namespace

Result<Selector> Selector::Parse(std::string_view text) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<const Node> root, ParseTree(text));
  return Selector(std::shared_ptr<const Node>(std::move(root)));
}

Selector Selector::All() {
  // One shared tree for every all() selector; never destroyed, so it is safe
  // to use during static destruction too.
  static const auto* const kAll = new std::shared_ptr<const Node>(std::make_shared<const Node>());
  return Selector(*kAll);
}

Selector Selector::FromTree(std::shared_ptr<const Node> root) { return Selector(std::move(root)); }

bool Selector::Matches(const Labels& labels) const {
  return Eval(*root_, [&labels](std::string_view key) -> std::optional<std::string_view> {
    auto it = labels.find(key);
    if (it == labels.end()) return std::nullopt;
    return std::string_view(it->second);
  });
}

bool Selector::Matches(const LabelLookup& lookup) const {
  if (!lookup) {
    return Eval(*root_, [](std::string_view) -> std::optional<std::string_view> { return std::nullopt; });
  }
  return Eval(*root_, lookup);
}

std::string Selector::String() const {
  std::string out;
  Print(*root_, out);
  return out;
}

}  // namespace tw::selector
