#include "selector/lexer.h"

#include <cstdio>

namespace tw::selector {
namespace {

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '/' || c == '-';
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// One input byte as a message shows it: '=' or '\x0d'.
std::string QuoteByte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "'\\x%02x'", u);
    return buf;
  }
  return std::string("'") + c + "'";
}

Token Make(TokenKind kind, size_t pos, std::string_view text = {}) {
  return Token{kind, text, pos + 1};
}

}  // namespace

Status SyntaxError(std::string_view what, size_t column) {
  std::string msg(what);
  msg += " at column ";
  msg += std::to_string(column);
  return Status::InvalidArgument(std::move(msg));
}

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd: return "end of input";
    case TokenKind::kLabel: {
      // Labels may be 512 bytes long; a message needs only the start.
      constexpr size_t kShown = 40;
      if (token.text.size() <= kShown) return "label '" + std::string(token.text) + "'";
      return "label '" + std::string(token.text.substr(0, kShown)) + "...'";
    }
    case TokenKind::kString: return "string";
    case TokenKind::kLParen: return "'('";
    case TokenKind::kRParen: return "')'";
    case TokenKind::kLBrace: return "'{'";
    case TokenKind::kRBrace: return "'}'";
    case TokenKind::kComma: return "','";
    case TokenKind::kEq: return "'=='";
    case TokenKind::kNe: return "'!='";
    case TokenKind::kNot: return "'!'";
    case TokenKind::kAnd: return "'&&'";
    case TokenKind::kOr: return "'||'";
    case TokenKind::kIn: return "'in'";
    case TokenKind::kNotIn: return "'not in'";
    case TokenKind::kContains: return "'contains'";
    case TokenKind::kStartsWith: return "'starts with'";
    case TokenKind::kEndsWith: return "'ends with'";
    case TokenKind::kHas: return "'has('";
    case TokenKind::kAll: return "'all('";
    case TokenKind::kGlobal: return "'global('";
  }
  return "token";
}

void Lexer::SkipSpace() {
  while (pos_ < input_.size() && IsSpace(input_[pos_])) ++pos_;
}

Status Lexer::Expected(std::string_view what, size_t pos) const {
  if (pos < input_.size() && input_[pos] == '\n') return SyntaxError("newline is not allowed", pos + 1);
  return SyntaxError("expected " + std::string(what), pos + 1);
}

Result<size_t> Lexer::LabelLength(size_t pos) const {
  size_t end = pos;
  while (end < input_.size() && IsLabelChar(input_[end])) ++end;
  if (end - pos > Selector::kMaxLabelLength) {
    return SyntaxError("label longer than " + std::to_string(Selector::kMaxLabelLength) + " characters",
                       pos + 1);
  }
  return end - pos;
}

Result<Token> Lexer::Next() {
  SkipSpace();
  const size_t start = pos_;
  if (start >= input_.size()) {
    after_label_ = false;
    return Make(TokenKind::kEnd, input_.size());
  }
  const char c = input_[start];
  // Calico decides "operator or label" by the previous token only: after a
  // label, a word must be an operator.
  if (after_label_ && IsLabelChar(c)) {
    after_label_ = false;
    return LexOperatorWord();
  }
  after_label_ = false;
  auto next_is = [&](char n) { return start + 1 < input_.size() && input_[start + 1] == n; };
  switch (c) {
    case '\n': return SyntaxError("newline is not allowed", start + 1);
    case '(': ++pos_; return Make(TokenKind::kLParen, start);
    case ')': ++pos_; return Make(TokenKind::kRParen, start);
    case '{': ++pos_; return Make(TokenKind::kLBrace, start);
    case '}': ++pos_; return Make(TokenKind::kRBrace, start);
    case ',': ++pos_; return Make(TokenKind::kComma, start);
    case '"':
    case '\'': return LexString();
    case '=':
      if (!next_is('=')) return SyntaxError("unexpected '='", start + 1);
      pos_ += 2;
      return Make(TokenKind::kEq, start);
    case '!':
      if (next_is('=')) {
        pos_ += 2;
        return Make(TokenKind::kNe, start);
      }
      ++pos_;
      return Make(TokenKind::kNot, start);
    case '&':
      if (!next_is('&')) return SyntaxError("unexpected '&'", start + 1);
      pos_ += 2;
      return Make(TokenKind::kAnd, start);
    case '|':
      if (!next_is('|')) return SyntaxError("unexpected '|'", start + 1);
      pos_ += 2;
      return Make(TokenKind::kOr, start);
    default: break;
  }
  if (!IsLabelChar(c)) return SyntaxError("unexpected " + QuoteByte(c), start + 1);
  std::string_view rest = input_.substr(start);
  if (rest.starts_with("has(")) return LexFunction("has(", TokenKind::kHas, true);
  if (rest.starts_with("all(")) return LexFunction("all(", TokenKind::kAll, false);
  if (rest.starts_with("global(")) return LexFunction("global(", TokenKind::kGlobal, false);
  TW_ASSIGN_OR_RETURN(size_t len, LabelLength(start));
  pos_ += len;
  after_label_ = true;
  last_label_ = Make(TokenKind::kLabel, start, input_.substr(start, len));
  return last_label_;
}

Result<Token> Lexer::LexOperatorWord() {
  const size_t start = pos_;
  auto word_at = [&](size_t pos) {
    size_t end = pos;
    while (end < input_.size() && IsLabelChar(input_[end])) ++end;
    return input_.substr(pos, end - pos);
  };
  std::string_view word = word_at(start);
  pos_ += word.size();
  if (word == "contains") return Make(TokenKind::kContains, start);
  if (word == "in") return Make(TokenKind::kIn, start);
  // Calico also accepts the two-word operators written as one word
  // ("startswith", "notin"); its own canonicalisation tests use them.
  if (word == "notin") return Make(TokenKind::kNotIn, start);
  if (word == "startswith") return Make(TokenKind::kStartsWith, start);
  if (word == "endswith") return Make(TokenKind::kEndsWith, start);
  std::string_view second;
  TokenKind kind;
  if (word == "not") {
    second = "in";
    kind = TokenKind::kNotIn;
  } else if (word == "starts") {
    second = "with";
    kind = TokenKind::kStartsWith;
  } else if (word == "ends") {
    second = "with";
    kind = TokenKind::kEndsWith;
  } else {
    return SyntaxError("expected an operator after " + DescribeToken(last_label_), start + 1);
  }
  SkipSpace();
  const size_t second_pos = pos_;
  if (word_at(second_pos) != second) return Expected("'" + std::string(second) + "'", second_pos);
  pos_ += second.size();
  return Make(kind, start);
}

Result<Token> Lexer::LexFunction(std::string_view name, TokenKind kind, bool takes_label) {
  const size_t start = pos_;
  pos_ += name.size();
  SkipSpace();
  std::string_view label;
  if (takes_label) {
    TW_ASSIGN_OR_RETURN(size_t len, LabelLength(pos_));
    if (len == 0) return Expected("a label", pos_);
    label = input_.substr(pos_, len);
    pos_ += len;
    SkipSpace();
  }
  if (pos_ >= input_.size() || input_[pos_] != ')') return Expected("')'", pos_);
  ++pos_;
  return Make(kind, start, label);
}

Result<Token> Lexer::LexString() {
  const size_t start = pos_;
  const char quote = input_[start];
  size_t close = input_.find(quote, start + 1);
  if (close == std::string_view::npos) return SyntaxError("unterminated string", start + 1);
  pos_ = close + 1;
  return Make(TokenKind::kString, start, input_.substr(start + 1, close - start - 1));
}

}  // namespace tw::selector
