#include "api/label_selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

#include "base/strings.h"

namespace tw::api {
namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------
// Label key / value validation, with apimachinery's messages.

constexpr std::string_view kQualifiedNameFmt =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
constexpr std::string_view kQualifiedNameWithPrefixFmt =
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
    "subdomain prefix and '/' (e.g. 'example.com/MyName')";
constexpr std::string_view kDns1123SubdomainFmt =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
constexpr std::string_view kLabelValueFmt =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], non-empty.
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (std::string_view label : Split(s, '.')) {
    if (label.empty()) return false;
    auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [&](char c) { return lower_alnum(c) || c == '-'; }))
      return false;
  }
  return true;
}

// The list of problems with a label key (empty = valid).
std::vector<std::string> LabelKeyErrors(std::string_view key) {
  std::vector<std::string> errs;
  std::vector<std::string_view> parts = Split(key, '/');
  std::string_view name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    std::string_view prefix = parts[0];
    name = parts[1];
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else if (prefix.size() > 253) {
      errs.push_back("prefix part must be no more than 253 characters");
    } else if (!IsDns1123Subdomain(prefix)) {
      errs.push_back("prefix part " + std::string(kDns1123SubdomainFmt));
    }
  } else {
    errs.push_back(std::string(kQualifiedNameWithPrefixFmt));
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part must be no more than 63 characters");
  } else if (!IsQualifiedNamePart(name)) {
    errs.push_back(std::string(kQualifiedNameFmt));
  }
  return errs;
}

std::vector<std::string> LabelValueErrors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back("must be no more than 63 characters");
  if (!value.empty() && !IsQualifiedNamePart(value)) errs.push_back(std::string(kLabelValueFmt));
  return errs;
}

// Go's %q for the strings we print (ASCII; escapes quotes and controls).
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  const char* begin = s.data();
  if (!s.empty() && s.front() == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || begin == s.data() + s.size()) return std::nullopt;
  return v;
}

// ---------------------------------------------------------------------------
// Lexer (apimachinery labels/selector.go Lexer).

enum class Tok {
  kError,
  kEnd,
  kIdentifier,
  kDoesNotExist,
  kNotEquals,
  kOpenPar,
  kClosedPar,
  kComma,
  kEquals,
  kDoubleEquals,
  kGreaterThan,
  kLessThan,
  kIn,
  kNotIn,
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecialSymbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

std::optional<Tok> SymbolToken(std::string_view s) {
  if (s == "!") return Tok::kDoesNotExist;
  if (s == "!=") return Tok::kNotEquals;
  if (s == "(") return Tok::kOpenPar;
  if (s == ")") return Tok::kClosedPar;
  if (s == ",") return Tok::kComma;
  if (s == "=") return Tok::kEquals;
  if (s == "==") return Tok::kDoubleEquals;
  if (s == ">") return Tok::kGreaterThan;
  if (s == "<") return Tok::kLessThan;
  return std::nullopt;
}

struct Token {
  Tok tok;
  std::string literal;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token Lex() {
    while (pos_ < s_.size() && IsWhitespace(s_[pos_])) ++pos_;
    if (pos_ >= s_.size()) return {Tok::kEnd, ""};
    if (IsSpecialSymbol(s_[pos_])) return ScanSpecialSymbol();
    size_t start = pos_;
    while (pos_ < s_.size() && !IsWhitespace(s_[pos_]) && !IsSpecialSymbol(s_[pos_])) ++pos_;
    std::string word(s_.substr(start, pos_ - start));
    if (word == "in") return {Tok::kIn, word};
    if (word == "notin") return {Tok::kNotIn, word};
    return {Tok::kIdentifier, word};
  }

 private:
  // Longest symbol that is a token ("!=", "=="), as apimachinery does.
  Token ScanSpecialSymbol() {
    std::string buffer;
    std::optional<Token> last;
    while (pos_ < s_.size() && IsSpecialSymbol(s_[pos_])) {
      buffer += s_[pos_];
      if (auto t = SymbolToken(buffer)) {
        last = Token{*t, buffer};
        ++pos_;
      } else if (last) {
        break;
      } else {
        ++pos_;
      }
    }
    if (!last) return {Tok::kError, fmt::format("error expected: keyword found '{}'", buffer)};
    return *last;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------
// Parser (apimachinery labels/selector.go Parser), one token of lookahead.

class LabelSelectorParser {
 public:
  explicit LabelSelectorParser(std::string_view text) {
    Lexer lexer(text);
    while (true) {
      Token t = lexer.Lex();
      tokens_.push_back(t);
      if (t.tok == Tok::kEnd || t.tok == Tok::kError) break;
    }
  }

  Result<std::vector<LabelSelector::Requirement>> Parse() {
    std::vector<LabelSelector::Requirement> reqs;
    while (true) {
      Token t = Lookahead(true);
      switch (t.tok) {
        case Tok::kIdentifier:
        case Tok::kDoesNotExist: {
          auto r = ParseRequirement();
          if (!r) return Status::InvalidArgument("unable to parse requirement: " + r.error().message());
          reqs.push_back(std::move(*r));
          Token next = Consume(true);
          if (next.tok == Tok::kEnd) return reqs;
          if (next.tok == Tok::kComma) {
            Token after = Lookahead(true);
            if (after.tok != Tok::kIdentifier && after.tok != Tok::kDoesNotExist)
              return Status::InvalidArgument(
                  fmt::format("found '{}', expected: identifier after ','", after.literal));
            continue;
          }
          return Status::InvalidArgument(
              fmt::format("found '{}', expected: ',' or 'end of string'", next.literal));
        }
        case Tok::kEnd:
          return reqs;
        default:
          return Status::InvalidArgument(
              fmt::format("found '{}', expected: !, identifier, or 'end of string'", t.literal));
      }
    }
  }

 private:
  using Op = LabelSelector::Op;

  // In "values" context the keywords in/notin are plain identifiers.
  Token Lookahead(bool values) const {
    Token t = tokens_[pos_];
    if (values && (t.tok == Tok::kIn || t.tok == Tok::kNotIn)) t.tok = Tok::kIdentifier;
    return t;
  }
  Token Consume(bool values) {
    Token t = Lookahead(values);
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }

  Result<LabelSelector::Requirement> ParseRequirement() {
    LabelSelector::Requirement req;
    bool negated = false;
    Token t = Consume(true);
    if (t.tok == Tok::kDoesNotExist) {
      negated = true;
      t = Consume(true);
    }
    if (t.tok != Tok::kIdentifier)
      return Status::InvalidArgument(fmt::format("found '{}', expected: identifier", t.literal));
    if (auto errs = LabelKeyErrors(t.literal); !errs.empty())
      return Status::InvalidArgument(
          fmt::format("key: Invalid value: {}: {}", GoQuote(t.literal), Join(errs, "; ")));
    req.key = t.literal;
    if (negated) {
      // "!a" takes no operator; "!a=b" then fails on the '=' in Parse().
      req.op = Op::kDoesNotExist;
      return req;
    }
    Token next = Lookahead(true);
    if (next.tok == Tok::kEnd || next.tok == Tok::kComma) {
      req.op = Op::kExists;
      return req;
    }
    Token op = Consume(false);
    switch (op.tok) {
      case Tok::kIn:
        req.op = Op::kIn;
        break;
      case Tok::kNotIn:
        req.op = Op::kNotIn;
        break;
      case Tok::kEquals:
      case Tok::kDoubleEquals:
        req.op = Op::kEquals;
        break;
      case Tok::kNotEquals:
        req.op = Op::kNotEquals;
        break;
      case Tok::kGreaterThan:
        req.op = Op::kGreaterThan;
        break;
      case Tok::kLessThan:
        req.op = Op::kLessThan;
        break;
      default:
        return Status::InvalidArgument(
            fmt::format("found '{}', expected: in, notin, =, ==, !=, gt, lt", op.literal));
    }
    std::vector<std::string> values;
    if (req.op == Op::kIn || req.op == Op::kNotIn) {
      TW_ASSIGN_OR_RETURN(values, ParseValues());
    } else {
      TW_ASSIGN_OR_RETURN(values, ParseExactValue());
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    if (req.op == Op::kGreaterThan || req.op == Op::kLessThan) {
      if (!ParseInt64(values[0]))
        return Status::InvalidArgument(fmt::format(
            "values[0]: Invalid value: {}: for 'Gt', 'Lt' operators, the value must be an integer",
            GoQuote(values[0])));
    } else {
      for (size_t i = 0; i < values.size(); ++i) {
        if (auto errs = LabelValueErrors(values[i]); !errs.empty())
          return Status::InvalidArgument(fmt::format("values[{}][{}]: Invalid value: {}: {}", i, req.key,
                                                     GoQuote(values[i]), Join(errs, "; ")));
      }
    }
    req.values = std::move(values);
    return req;
  }

  Result<std::vector<std::string>> ParseValues() {
    Token t = Consume(true);
    if (t.tok != Tok::kOpenPar)
      return Status::InvalidArgument(fmt::format("found '{}' expected: '('", t.literal));
    t = Lookahead(true);
    switch (t.tok) {
      case Tok::kIdentifier:
      case Tok::kComma: {
        TW_ASSIGN_OR_RETURN(auto values, ParseIdentifiersList());
        Token close = Consume(true);
        if (close.tok != Tok::kClosedPar)
          return Status::InvalidArgument(fmt::format("found '{}', expected: ')'", close.literal));
        return values;
      }
      case Tok::kClosedPar:
        Consume(true);
        return std::vector<std::string>{""};
      default:
        return Status::InvalidArgument(
            fmt::format("found '{}', expected: ',', ')' or identifier", t.literal));
    }
  }

  // Mirrors apimachinery: "(,a)", "(a,,b)" and "(a,)" also hold "".
  Result<std::vector<std::string>> ParseIdentifiersList() {
    std::vector<std::string> values;
    while (true) {
      Token t = Consume(true);
      switch (t.tok) {
        case Tok::kIdentifier: {
          values.push_back(t.literal);
          Token next = Lookahead(true);
          if (next.tok == Tok::kComma) continue;
          if (next.tok == Tok::kClosedPar) return values;
          return Status::InvalidArgument(fmt::format("found '{}', expected: ',' or ')'", next.literal));
        }
        case Tok::kComma: {
          if (values.empty()) values.push_back("");
          Token next = Lookahead(true);
          if (next.tok == Tok::kClosedPar) {
            values.push_back("");
            return values;
          }
          if (next.tok == Tok::kComma) {
            Consume(true);
            values.push_back("");
          }
          continue;
        }
        default:
          return Status::InvalidArgument(fmt::format("found '{}', expected: ',', or identifier", t.literal));
      }
    }
  }

  Result<std::vector<std::string>> ParseExactValue() {
    Token t = Lookahead(true);
    if (t.tok == Tok::kEnd || t.tok == Tok::kComma) return std::vector<std::string>{""};
    t = Consume(true);
    if (t.tok == Tok::kIdentifier) return std::vector<std::string>{t.literal};
    return Status::InvalidArgument(fmt::format("found '{}', expected: identifier", t.literal));
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelectorParser parser(text);
  TW_ASSIGN_OR_RETURN(auto reqs, parser.Parse());
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  LabelSelector sel;
  sel.requirements_ = std::move(reqs);
  return sel;
}

bool LabelSelector::Matches(const json::object* labels) const {
  for (const Requirement& r : requirements_) {
    const json::value* v = labels ? labels->if_contains(r.key) : nullptr;
    const json::string* s = v && v->is_string() ? &v->get_string() : nullptr;
    auto in_values = [&] {
      return s && std::binary_search(r.values.begin(), r.values.end(), std::string_view(*s));
    };
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        ok = in_values();
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        ok = v == nullptr || !in_values();
        break;
      case Op::kExists:
        ok = v != nullptr;
        break;
      case Op::kDoesNotExist:
        ok = v == nullptr;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        auto have = s ? ParseInt64(*s) : std::nullopt;
        auto want = ParseInt64(r.values[0]);
        ok = have && want && (r.op == Op::kGreaterThan ? *have > *want : *have < *want);
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

std::string LabelSelector::ToString() const {
  std::vector<std::string> parts;
  for (const Requirement& r : requirements_) {
    std::vector<std::string> values(r.values.begin(), r.values.end());
    std::string list = Join(values, ",");
    switch (r.op) {
      case Op::kEquals:
        parts.push_back(r.key + "=" + list);
        break;
      case Op::kNotEquals:
        parts.push_back(r.key + "!=" + list);
        break;
      case Op::kIn:
        parts.push_back(r.key + " in (" + list + ")");
        break;
      case Op::kNotIn:
        parts.push_back(r.key + " notin (" + list + ")");
        break;
      case Op::kExists:
        parts.push_back(r.key);
        break;
      case Op::kDoesNotExist:
        parts.push_back("!" + r.key);
        break;
      case Op::kGreaterThan:
        parts.push_back(r.key + ">" + list);
        break;
      case Op::kLessThan:
        parts.push_back(r.key + "<" + list);
        break;
    }
  }
  return Join(parts, ",");
}

// ---------------------------------------------------------------------------
// Field selectors (apimachinery fields/selector.go).

namespace {

// Splits on unescaped `sep`; escapes are kept for the next step.
std::vector<std::string> SplitUnescaped(std::string_view s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s[i];
      out.back() += s[++i];
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back() += s[i];
    }
  }
  return out;
}

Result<std::string> UnescapeValue(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 >= s.size()) return Status::InvalidArgument("invalid escape sequence: trailing backslash");
    char c = s[++i];
    if (c != '\\' && c != ',' && c != '=' && c != '!')
      return Status::InvalidArgument(fmt::format("invalid escape sequence: \\{}", c));
    out += c;
  }
  return out;
}

std::string_view FieldOf(const json::object& object, std::string_view field) {
  const json::value* meta = object.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return "";
  const json::value* v = meta->get_object().if_contains(field.substr(field.find('.') + 1));
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  FieldSelector sel;
  if (TrimSpace(text).empty()) return sel;
  for (const std::string& part : SplitUnescaped(text, ',')) {
    // The first unescaped operator, preferring "!=" and "==" over "=".
    size_t op_pos = std::string::npos, op_len = 0;
    bool negate = false;
    for (size_t i = 0; i < part.size(); ++i) {
      if (part[i] == '\\') {
        ++i;
        continue;
      }
      if (part.compare(i, 2, "!=") == 0) {
        op_pos = i, op_len = 2, negate = true;
      } else if (part.compare(i, 2, "==") == 0) {
        op_pos = i, op_len = 2;
      } else if (part[i] == '=') {
        op_pos = i, op_len = 1;
      } else {
        continue;
      }
      break;
    }
    if (op_pos == std::string::npos)
      return Status::InvalidArgument(
          fmt::format("invalid selector: '{}'; can't understand '{}'", text, part));
    std::string field(TrimSpace(std::string_view(part).substr(0, op_pos)));
    if (field != "metadata.name" && field != "metadata.namespace")
      return Status::InvalidArgument(
          fmt::format("{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                      GoQuote(field)));
    auto value = UnescapeValue(std::string_view(part).substr(op_pos + op_len));
    if (!value)
      return Status::InvalidArgument(
          fmt::format("invalid selector: '{}': {}", text, value.error().message()));
    sel.terms_.push_back(Term{std::move(field), negate, std::move(*value)});
  }
  return sel;
}

bool FieldSelector::Matches(const json::object& object) const {
  for (const Term& t : terms_) {
    bool equal = FieldOf(object, t.field) == t.value;
    if (equal == t.negate) return false;
  }
  return true;
}

}  // namespace tw::api
