#include "webhook/event_query.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace tw::webhook {

namespace json = boost::json;

// ---- AST -------------------------------------------------------------------------------

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };

struct EventQuery::Node {
  enum class Kind { kAnd, kOr, kNot, kCompare, kIn, kNotIn, kEmpty };
  Kind kind = Kind::kCompare;
  std::string key;
  Cmp cmp = Cmp::kEq;
  std::vector<std::string> values;  // kCompare: one; kIn/kNotIn: the members
  std::vector<std::shared_ptr<const Node>> children;
};

using Node = EventQuery::Node;
using NodePtr = std::shared_ptr<const Node>;

namespace {

// ---- Lexer -----------------------------------------------------------------------------

enum class Tok { kWord, kString, kLParen, kRParen, kLBrace, kRBrace, kComma, kCmp, kAnd, kOr, kNot, kEnd };

struct Token {
  Tok type = Tok::kEnd;
  std::string text;  // word / string contents / operator spelling
  size_t pos = 0;    // byte offset
};

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-' || c == ':' || c == '/' || c == '@' || c == '+' || c == '*' || c == '?';
}

std::string Column(size_t pos) { return "column " + std::to_string(pos + 1); }

Status ErrorAt(size_t pos, const std::string& what) {
  return Status::InvalidArgument("query: " + what + " at " + Column(pos));
}

// "'x'" for an operator, "end of query" for the end, the word otherwise.
std::string Describe(const Token& t) {
  switch (t.type) {
    case Tok::kEnd:
      return "end of query";
    case Tok::kString:
      return "string \"" + t.text + "\"";
    default:
      return "'" + t.text + "'";
  }
}

Result<std::string> LexString(std::string_view s, size_t* i) {
  size_t start = *i;
  std::string out;
  ++*i;  // opening quote
  while (*i < s.size()) {
    char c = s[*i];
    if (c == '"') {
      ++*i;
      return out;
    }
    if (c == '\\') {
      if (*i + 1 >= s.size()) break;
      char e = s[*i + 1];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        default:
          return ErrorAt(*i, std::string("unknown escape '\\") + e + "'");
      }
      *i += 2;
      continue;
    }
    if (c == '\n') break;
    out.push_back(c);
    ++*i;
  }
  return ErrorAt(start, "unterminated string starting");
}

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    Token t;
    t.pos = i;
    auto two = [&](char next) { return i + 1 < s.size() && s[i + 1] == next; };
    if (c == '"') {
      TW_ASSIGN_OR_RETURN(t.text, LexString(s, &i));
      t.type = Tok::kString;
    } else if (IsWordChar(c)) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      t.text = std::string(s.substr(i, j - i));
      t.type = Tok::kWord;
      if (t.text == "AND" || t.text == "and") t.type = Tok::kAnd;
      if (t.text == "OR" || t.text == "or") t.type = Tok::kOr;
      if (t.text == "NOT" || t.text == "not") t.type = Tok::kNot;
      i = j;
    } else if (c == '(' || c == ')' || c == '{' || c == '}' || c == ',') {
      t.type = c == '('   ? Tok::kLParen
               : c == ')' ? Tok::kRParen
               : c == '{' ? Tok::kLBrace
               : c == '}' ? Tok::kRBrace
                          : Tok::kComma;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '&' && two('&')) {
      t = {Tok::kAnd, "&&", i};
      i += 2;
    } else if (c == '|' && two('|')) {
      t = {Tok::kOr, "||", i};
      i += 2;
    } else if (c == '!' && two('=')) {
      t = {Tok::kCmp, "!=", i};
      i += 2;
    } else if (c == '!') {
      t = {Tok::kNot, "!", i};
      ++i;
    } else if (c == '=') {
      // "==" is not Calico's; say so rather than misparse.
      if (two('=')) return ErrorAt(i, "unexpected '==' (use '=')");
      t = {Tok::kCmp, "=", i};
      ++i;
    } else if (c == '<' || c == '>') {
      bool eq = two('=');
      t = {Tok::kCmp, std::string(1, c) + (eq ? "=" : ""), i};
      i += eq ? 2 : 1;
    } else {
      return ErrorAt(i, std::string("unexpected character '") + c + "'");
    }
    out.push_back(std::move(t));
  }
  out.push_back({Tok::kEnd, "", s.size()});
  return out;
}

// ---- Parser ----------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Result<NodePtr> ParseQuery() {
    if (Peek().type == Tok::kEnd) return NodePtr();
    TW_ASSIGN_OR_RETURN(NodePtr root, ParseOr(0));
    if (Peek().type != Tok::kEnd) return Unexpected(Peek());
    return root;
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  const Token& Next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }
  static Status Unexpected(const Token& t) { return ErrorAt(t.pos, "unexpected " + Describe(t)); }

  Result<NodePtr> ParseOr(int depth) {
    if (depth > EventQuery::kMaxNestingDepth) return ErrorAt(Peek().pos, "query nested too deeply");
    TW_ASSIGN_OR_RETURN(NodePtr left, ParseAnd(depth));
    if (Peek().type != Tok::kOr) return left;
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kOr;
    node->children.push_back(std::move(left));
    while (Peek().type == Tok::kOr) {
      Next();
      TW_ASSIGN_OR_RETURN(NodePtr right, ParseAnd(depth));
      node->children.push_back(std::move(right));
    }
    return NodePtr(node);
  }

  Result<NodePtr> ParseAnd(int depth) {
    TW_ASSIGN_OR_RETURN(NodePtr left, ParseUnary(depth));
    if (Peek().type != Tok::kAnd) return left;
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kAnd;
    node->children.push_back(std::move(left));
    while (Peek().type == Tok::kAnd) {
      Next();
      TW_ASSIGN_OR_RETURN(NodePtr right, ParseUnary(depth));
      node->children.push_back(std::move(right));
    }
    return NodePtr(node);
  }

  Result<NodePtr> ParseUnary(int depth) {
    if (depth > EventQuery::kMaxNestingDepth) return ErrorAt(Peek().pos, "query nested too deeply");
    if (Peek().type == Tok::kNot) {
      Next();
      TW_ASSIGN_OR_RETURN(NodePtr child, ParseUnary(depth + 1));
      auto node = std::make_shared<Node>();
      node->kind = Node::Kind::kNot;
      node->children.push_back(std::move(child));
      return NodePtr(node);
    }
    return ParsePrimary(depth);
  }

  Result<NodePtr> ParsePrimary(int depth) {
    const Token& t = Peek();
    if (t.type == Tok::kLParen) {
      Next();
      TW_ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
      if (Peek().type != Tok::kRParen)
        return ErrorAt(Peek().pos, "expected ')' but found " + Describe(Peek()));
      Next();
      return inner;
    }
    if (t.type != Tok::kWord && t.type != Tok::kString) {
      return ErrorAt(t.pos, "expected a field name but found " + Describe(t));
    }
    auto node = std::make_shared<Node>();
    node->key = Next().text;
    if (node->key.empty()) return ErrorAt(t.pos, "empty field name");
    const Token& op = Peek();
    if (op.type == Tok::kCmp) {
      Next();
      node->kind = Node::Kind::kCompare;
      node->cmp = op.text == "="    ? Cmp::kEq
                  : op.text == "!=" ? Cmp::kNe
                  : op.text == "<"  ? Cmp::kLt
                  : op.text == "<=" ? Cmp::kLe
                  : op.text == ">"  ? Cmp::kGt
                                    : Cmp::kGe;
      TW_ASSIGN_OR_RETURN(std::string value, ParseValue("after '" + op.text + "'"));
      node->values.push_back(std::move(value));
      return NodePtr(node);
    }
    if (op.type == Tok::kWord &&
        (op.text == "IN" || op.text == "in" || op.text == "NOTIN" || op.text == "notin")) {
      Next();
      node->kind = (op.text == "IN" || op.text == "in") ? Node::Kind::kIn : Node::Kind::kNotIn;
      if (Peek().type != Tok::kLBrace)
        return ErrorAt(Peek().pos, "expected '{' but found " + Describe(Peek()));
      Next();
      for (;;) {
        TW_ASSIGN_OR_RETURN(std::string member, ParseValue("in the set"));
        node->values.push_back(std::move(member));
        if (Peek().type == Tok::kComma) {
          Next();
          continue;
        }
        if (Peek().type == Tok::kRBrace) {
          Next();
          break;
        }
        return ErrorAt(Peek().pos, "expected '}' or ',' but found " + Describe(Peek()));
      }
      return NodePtr(node);
    }
    if (op.type == Tok::kWord && (op.text == "EMPTY" || op.text == "empty")) {
      Next();
      node->kind = Node::Kind::kEmpty;
      return NodePtr(node);
    }
    return ErrorAt(op.pos, "expected an operator (=, !=, <, <=, >, >=, IN, NOTIN, EMPTY) after field \"" +
                               node->key + "\" but found " + Describe(op));
  }

  Result<std::string> ParseValue(const std::string& where) {
    const Token& t = Peek();
    // Keywords are fine as values: the position is unambiguous.
    bool word_like = t.type == Tok::kWord || t.type == Tok::kString ||
                     ((t.type == Tok::kAnd || t.type == Tok::kOr || t.type == Tok::kNot) && t.text != "&&" &&
                      t.text != "||" && t.text != "!");
    if (!word_like) return ErrorAt(t.pos, "expected a value " + where + " but found " + Describe(t));
    return Next().text;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

// ---- Evaluation ------------------------------------------------------------------------

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<double> NumberOf(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

bool HasWildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

template <typename T>
bool Order(Cmp cmp, const T& a, const T& b) {
  switch (cmp) {
    case Cmp::kLt:
      return a < b;
    case Cmp::kLe:
      return a <= b;
    case Cmp::kGt:
      return a > b;
    case Cmp::kGe:
      return a >= b;
    default:
      return false;
  }
}

// `=` (wildcards allowed) or an ordering, on one scalar; never kNe.
bool ScalarMatches(const json::value& v, Cmp cmp, const std::string& want) {
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (cmp == Cmp::kEq) return HasWildcard(want) ? WildcardMatch(want, s) : s == want;
    auto a = ParseNumber(s), b = ParseNumber(want);
    if (a && b) return Order(cmp, *a, *b);
    return Order(cmp, s, std::string_view(want));
  }
  if (auto n = NumberOf(v)) {
    auto w = ParseNumber(want);
    if (!w) return false;
    return cmp == Cmp::kEq ? *n == *w : Order(cmp, *n, *w);
  }
  if (v.is_bool()) return cmp == Cmp::kEq && want == (v.get_bool() ? "true" : "false");
  return false;
}

bool FieldMatches(const json::value* v, Cmp cmp, const std::string& want) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_array()) {
    for (const json::value& e : v->get_array())
      if (ScalarMatches(e, cmp, want)) return true;
    return false;
  }
  return ScalarMatches(*v, cmp, want);
}

bool IsEmptyValue(const json::value* v) {
  if (v == nullptr || v->is_null()) return true;
  if (v->is_string()) return v->get_string().empty();
  if (v->is_array()) return v->get_array().empty();
  if (v->is_object()) return v->get_object().empty();
  return false;
}

bool Eval(const Node& n, const json::object& event) {
  switch (n.kind) {
    case Node::Kind::kAnd:
      for (const auto& c : n.children)
        if (!Eval(*c, event)) return false;
      return true;
    case Node::Kind::kOr:
      for (const auto& c : n.children)
        if (Eval(*c, event)) return true;
      return false;
    case Node::Kind::kNot:
      return !Eval(*n.children[0], event);
    case Node::Kind::kCompare: {
      const json::value* v = LookupField(event, n.key);
      if (n.cmp == Cmp::kNe) return !FieldMatches(v, Cmp::kEq, n.values[0]);
      return FieldMatches(v, n.cmp, n.values[0]);
    }
    case Node::Kind::kIn:
    case Node::Kind::kNotIn: {
      const json::value* v = LookupField(event, n.key);
      bool any = false;
      for (const std::string& m : n.values) {
        if (FieldMatches(v, Cmp::kEq, m)) {
          any = true;
          break;
        }
      }
      return n.kind == Node::Kind::kIn ? any : !any;
    }
    case Node::Kind::kEmpty:
      return IsEmptyValue(LookupField(event, n.key));
  }
  return false;
}

// ---- Printing --------------------------------------------------------------------------

std::string QuoteIfNeeded(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) plain = plain && IsWordChar(c);
  for (const char* kw :
       {"AND", "and", "OR", "or", "NOT", "not", "IN", "in", "NOTIN", "notin", "EMPTY", "empty"})
    if (s == kw) plain = false;
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
  return out + "\"";
}

std::string CmpText(Cmp c) {
  switch (c) {
    case Cmp::kEq:
      return "=";
    case Cmp::kNe:
      return "!=";
    case Cmp::kLt:
      return "<";
    case Cmp::kLe:
      return "<=";
    case Cmp::kGt:
      return ">";
    case Cmp::kGe:
      return ">=";
  }
  return "?";
}

std::string Print(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kAnd:
    case Node::Kind::kOr: {
      std::string sep = n.kind == Node::Kind::kAnd ? " AND " : " OR ";
      std::string out;
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out += sep;
        const Node& c = *n.children[i];
        bool paren = c.kind == Node::Kind::kOr || c.kind == Node::Kind::kAnd;
        out += paren ? "(" + Print(c) + ")" : Print(c);
      }
      return out;
    }
    case Node::Kind::kNot: {
      const Node& c = *n.children[0];
      bool paren = c.kind == Node::Kind::kOr || c.kind == Node::Kind::kAnd;
      return "NOT " + (paren ? "(" + Print(c) + ")" : Print(c));
    }
    case Node::Kind::kCompare:
      return QuoteIfNeeded(n.key) + " " + CmpText(n.cmp) + " " + QuoteIfNeeded(n.values[0]);
    case Node::Kind::kIn:
    case Node::Kind::kNotIn: {
      std::string out = QuoteIfNeeded(n.key) + (n.kind == Node::Kind::kIn ? " IN {" : " NOTIN {");
      for (size_t i = 0; i < n.values.size(); ++i) out += (i ? ", " : "") + QuoteIfNeeded(n.values[i]);
      return out + "}";
    }
    case Node::Kind::kEmpty:
      return QuoteIfNeeded(n.key) + " EMPTY";
  }
  return "";
}

}  // namespace

// ---- Public ----------------------------------------------------------------------------

EventQuery::EventQuery() = default;

Result<EventQuery> EventQuery::Parse(std::string_view text) {
  if (text.size() > kMaxLength) {
    return Status::InvalidArgument("query: longer than " + std::to_string(kMaxLength) + " characters");
  }
  TW_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
  Parser parser(std::move(tokens));
  TW_ASSIGN_OR_RETURN(NodePtr root, parser.ParseQuery());
  return EventQuery(std::move(root));
}

bool EventQuery::Matches(const json::object& event) const { return root_ == nullptr || Eval(*root_, event); }

std::string EventQuery::ToString() const { return root_ ? Print(*root_) : std::string(); }

bool WildcardMatch(std::string_view pattern, std::string_view text) {
  // Iterative glob with single-star backtracking: O(|p| * |t|) worst case.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const json::value* LookupField(const json::object& event, std::string_view key) {
  if (const json::value* v = event.if_contains(key)) return v;
  const json::object* obj = &event;
  size_t start = 0;
  for (;;) {
    size_t dot = key.find('.', start);
    std::string_view part =
        key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const json::value* v = obj->if_contains(part);
    if (v == nullptr) return nullptr;
    if (dot == std::string_view::npos) return v;
    // The rest as one member name first ("record" -> {"a.b": ...}).
    if (!v->is_object()) return nullptr;
    obj = &v->get_object();
    if (const json::value* rest = obj->if_contains(key.substr(dot + 1))) return rest;
    start = dot + 1;
  }
}

}  // namespace tw::webhook
