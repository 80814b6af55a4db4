// Recursive-descent parser for the selector language.  Internal to the
// selector library; use Selector::Parse.
//
// Grammar (docs/calico-semantics.md §5), precedence low to high:
//   sel   := <empty> | or <end>
//   or    := and ( "||" and )*
//   and   := unary ( "&&" unary )*
//   unary := "!"* atom                 ; each "!" toggles negation
//   atom  := has(label) | all() | global() | "(" or ")"
//          | label ("==" | "!=" | contains | starts with | ends with) string
//          | label (in | not in) "{" [ string ("," string)* [","] ] "}"
//
// Parentheses may nest at most Selector::kMaxNestingDepth deep, which bounds
// the recursion of the parser and of every walk over the tree.
#ifndef TW_SELECTOR_PARSER_H_
#define TW_SELECTOR_PARSER_H_

#include <memory>
#include <string_view>

#include "base/result.h"
#include "selector/ast.h"

namespace tw::selector {

// Parses `text` into a tree; an empty (or blank) text gives an kAll node.
// InvalidArgument "<what went wrong> at column N" on a syntax error.
Result<std::unique_ptr<const Node>> ParseTree(std::string_view text);

}  // namespace tw::selector

#endif  // TW_SELECTOR_PARSER_H_
