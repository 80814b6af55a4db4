// Lexer for the selector language (docs/calico-semantics.md §5): turns the
// text into tokens one at a time, so that the parser reports errors in
// source order.  Internal to the selector library; use Selector::Parse.
//
// Lexical rules, as Calico's tokenizer has them:
// - only space and TAB separate tokens; a newline is an error (inside a
//   quoted string everything but the closing quote is allowed);
// - labels are runs of [A-Za-z0-9_./-], at most Selector::kMaxLabelLength bytes;
// - strings are "..." or '...' without escapes;
// - `has(`, `all(`, `global(` are functions only with the `(` glued on;
//   whitespace may follow the `(` and precede the `)`;
// - right after a label, a word is an operator: `contains`, `in`,
//   `not in`, `starts with`, `ends with` (spaces/TABs, or none, between the
//   two words; the operator must end at a word boundary, so `a inx` is an
//   error).  Anywhere else the same words are ordinary labels.
//
// Columns are 1-based byte offsets into the input.
#ifndef TW_SELECTOR_LEXER_H_
#define TW_SELECTOR_LEXER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "selector/selector.h"

namespace tw::selector {

enum class TokenKind {
  kEnd,         // end of input
  kLabel,       // text = the label
  kString,      // text = the contents, without the quotes
  kLParen,      // (
  kRParen,      // )
  kLBrace,      // {
  kRBrace,      // }
  kComma,       // ,
  kEq,          // ==
  kNe,          // !=
  kNot,         // !
  kAnd,         // &&
  kOr,          // ||
  kIn,          // in
  kNotIn,       // not in
  kContains,    // contains
  kStartsWith,  // starts with
  kEndsWith,    // ends with
  kHas,         // has(label): text = the label
  kAll,         // all()
  kGlobal,      // global()
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // points into the lexer's input
  size_t column = 0;      // 1-based column of the first byte
};

// How a token is named in error messages: "'&&'", "label 'app'", "string",
// "end of input", "'has('".
std::string DescribeToken(const Token& token);

// "<what> at column N": the one shape of every selector syntax error.
Status SyntaxError(std::string_view what, size_t column);

class Lexer {
 public:
  // `input` must outlive the lexer and the tokens it returns.
  explicit Lexer(std::string_view input) : input_(input) {}

  // The next token; kEnd (column = size + 1) once the input is used up, and
  // again on every later call.  InvalidArgument on a lexical error, e.g.
  // "unexpected '=' at column 12", "unterminated string at column 5",
  // "newline is not allowed at column 3".
  Result<Token> Next();

 private:
  Result<Token> LexOperatorWord();
  Result<Token> LexFunction(std::string_view name, TokenKind kind, bool takes_label);
  Result<Token> LexString();
  // Length of the label starting at `pos` (0 if none); errors if too long.
  Result<size_t> LabelLength(size_t pos) const;
  void SkipSpace();
  // "expected <what>" at `pos`, or the newline error if a newline is there.
  Status Expected(std::string_view what, size_t pos) const;

  std::string_view input_;
  size_t pos_ = 0;
  bool after_label_ = false;  // the previous token was a kLabel
  Token last_label_;          // the most recent kLabel, for messages
};

}  // namespace tw::selector

#endif  // TW_SELECTOR_LEXER_H_
