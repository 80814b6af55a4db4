#include "selector/parser.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "selector/lexer.h"
#include "selector/selector.h"

namespace tw::selector {
namespace {

using NodePtr = std::unique_ptr<Node>;

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}

  Result<NodePtr> Parse() {
    TW_RETURN_IF_ERROR(Advance());
    if (tok_.kind == TokenKind::kEnd) return MakeNode(NodeKind::kAll);
    TW_ASSIGN_OR_RETURN(NodePtr root, ParseOr(0));
    if (tok_.kind != TokenKind::kEnd) return Unexpected();
    return root;
  }

 private:
  static NodePtr MakeNode(NodeKind kind) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    return node;
  }

  Status Advance() {
    TW_ASSIGN_OR_RETURN(tok_, lexer_.Next());
    return Status::Ok();
  }

  Status Unexpected() const {
    if (tok_.kind == TokenKind::kEnd) return SyntaxError("unexpected end of input", tok_.column);
    return SyntaxError("unexpected " + DescribeToken(tok_), tok_.column);
  }

  Status Expected(std::string_view what) const {
    return SyntaxError("expected " + std::string(what), tok_.column);
  }

  Result<NodePtr> ParseOr(int depth) { return ParseList(NodeKind::kOr, TokenKind::kOr, depth); }

  // One operand, or a `kind` node (kOr / kAnd) over two or more operands
  // separated by `sep`; the operands of an Or are And-lists, of an And unaries.
  Result<NodePtr> ParseList(NodeKind kind, TokenKind sep, int depth) {
    auto operand = [&]() -> Result<NodePtr> {
      return kind == NodeKind::kOr ? ParseList(NodeKind::kAnd, TokenKind::kAnd, depth)
                                   : ParseUnary(depth);
    };
    TW_ASSIGN_OR_RETURN(NodePtr first, operand());
    if (tok_.kind != sep) return first;
    NodePtr list = MakeNode(kind);
    list->children.push_back(std::move(first));
    while (tok_.kind == sep) {
      TW_RETURN_IF_ERROR(Advance());
      TW_ASSIGN_OR_RETURN(NodePtr next, operand());
      list->children.push_back(std::move(next));
    }
    return list;
  }

  Result<NodePtr> ParseUnary(int depth) {
    // A run of "!" is a loop, not recursion: any number is safe.
    bool negated = false;
    while (tok_.kind == TokenKind::kNot) {
      negated = !negated;
      TW_RETURN_IF_ERROR(Advance());
    }
    TW_ASSIGN_OR_RETURN(NodePtr atom, ParseAtom(depth));
    if (!negated) return atom;
    NodePtr not_node = MakeNode(NodeKind::kNot);
    not_node->children.push_back(std::move(atom));
    return not_node;
  }

  Result<NodePtr> ParseAtom(int depth) {
    const Token tok = tok_;
    switch (tok.kind) {
      case TokenKind::kAll:
      case TokenKind::kGlobal: {
        TW_RETURN_IF_ERROR(Advance());
        return MakeNode(tok.kind == TokenKind::kAll ? NodeKind::kAll : NodeKind::kGlobal);
      }
      case TokenKind::kHas: {
        TW_RETURN_IF_ERROR(Advance());
        NodePtr node = MakeNode(NodeKind::kHas);
        node->label = tok.text;
        return node;
      }
      case TokenKind::kLParen: {
        if (depth >= Selector::kMaxNestingDepth) {
          return SyntaxError("parentheses nested deeper than " +
                                 std::to_string(Selector::kMaxNestingDepth) + " levels",
                             tok.column);
        }
        TW_RETURN_IF_ERROR(Advance());
        TW_ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
        if (tok_.kind != TokenKind::kRParen) return Expected("')'");
        TW_RETURN_IF_ERROR(Advance());
        return inner;
      }
      case TokenKind::kLabel: return ParseComparison();
      default: return Unexpected();
    }
  }

  // tok_ is the label.
  Result<NodePtr> ParseComparison() {
    const Token label = tok_;
    TW_RETURN_IF_ERROR(Advance());
    NodeKind kind;
    switch (tok_.kind) {
      case TokenKind::kEq: kind = NodeKind::kEq; break;
      case TokenKind::kNe: kind = NodeKind::kNe; break;
      case TokenKind::kContains: kind = NodeKind::kContains; break;
      case TokenKind::kStartsWith: kind = NodeKind::kStartsWith; break;
      case TokenKind::kEndsWith: kind = NodeKind::kEndsWith; break;
      case TokenKind::kIn: kind = NodeKind::kIn; break;
      case TokenKind::kNotIn: kind = NodeKind::kNotIn; break;
      default: return Expected("an operator after " + DescribeToken(label));
    }
    TW_RETURN_IF_ERROR(Advance());
    NodePtr node = MakeNode(kind);
    node->label = label.text;
    if (kind == NodeKind::kIn || kind == NodeKind::kNotIn) {
      TW_RETURN_IF_ERROR(ParseSet(node->values));
    } else {
      if (tok_.kind != TokenKind::kString) return Expected("a quoted string");
      node->value = tok_.text;
      TW_RETURN_IF_ERROR(Advance());
    }
    return node;
  }

  // "{" [ string ("," string)* [","] ] "}"; `values` ends sorted and unique.
  Status ParseSet(std::vector<std::string>& values) {
    if (tok_.kind != TokenKind::kLBrace) return Expected("'{'");
    TW_RETURN_IF_ERROR(Advance());
    bool want_string = true;  // just after "{" or ","
    while (tok_.kind == TokenKind::kString) {
      values.emplace_back(tok_.text);
      TW_RETURN_IF_ERROR(Advance());
      if (tok_.kind != TokenKind::kComma) {
        want_string = false;
        break;
      }
      TW_RETURN_IF_ERROR(Advance());
    }
    if (tok_.kind != TokenKind::kRBrace) {
      return Expected(want_string ? "a quoted string or '}'" : "',' or '}'");
    }
    TW_RETURN_IF_ERROR(Advance());
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return Status::Ok();
  }

  Lexer lexer_;
  Token tok_;
};

}  // namespace

Result<std::unique_ptr<const Node>> ParseTree(std::string_view text) {
  Parser parser(text);
  TW_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  return std::unique_ptr<const Node>(std::move(root));
}

}  // namespace tw::selector
