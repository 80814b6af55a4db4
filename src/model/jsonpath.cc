#include "model/jsonpath.h"

#include <cstdlib>

namespace tw::model {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '$' || c == '@' || static_cast<unsigned char>(c) >= 0x80;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
  void advance(size_t n = 1) { i_ += n; }
  size_t pos() const { return i_; }
  void SkipSpaces() {
    while (!done() && (peek() == ' ' || peek() == '\t')) advance();
  }
  Status Error(std::string what) const {
    return Status::InvalidArgument(what + " at column " + std::to_string(i_ + 1));
  }
  std::string Name() {
    size_t start = i_;
    while (!done() && IsNameChar(peek())) advance();
    return std::string(s_.substr(start, i_ - start));
  }
  // A quoted string starting at the current quote character.
  Result<std::string> Quoted() {
    char q = peek();
    size_t start = i_ + 1;
    size_t end = s_.find(q, start);
    if (end == std::string_view::npos) return Error("unterminated string");
    i_ = end + 1;
    return std::string(s_.substr(start, end - start));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

int Compare(const boost::json::value& a, const boost::json::value& b, bool* comparable) {
  *comparable = true;
  if (a.is_string() && b.is_string()) return a.as_string().compare(b.as_string());
  if (a.is_number() && b.is_number()) {
    double x = a.to_number<double>(), y = b.to_number<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_bool() && b.is_bool()) return int(a.as_bool()) - int(b.as_bool());
  if (a.is_null() && b.is_null()) return 0;
  *comparable = false;
  return 0;
}

void CollectDescendants(const boost::json::value& v, const std::string& name,
                        std::vector<const boost::json::value*>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) {
      if (k == name) out.push_back(&child);
      CollectDescendants(child, name, out);
    }
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) CollectDescendants(child, name, out);
  }
}

}  // namespace

Result<JsonPath> JsonPath::Compile(std::string_view text) {
  JsonPath p;
  p.text_ = std::string(text);
  Cursor c(text);
  if (c.peek() != '$') return c.Error("a JSONPath must start with '$'");
  c.advance();
  // "$." alone means the root (Calico's docs for a top-level array).
  if (c.peek() == '.' && c.pos() + 1 == text.size()) return p;
  while (!c.done()) {
    Step step;
    if (c.peek() == '.') {
      c.advance();
      bool descendant = false;
      if (c.peek() == '.') {
        c.advance();
        descendant = true;
      }
      if (c.peek() == '*') {
        if (descendant) return c.Error("'..*' is not supported");
        c.advance();
        step.kind = Step::Kind::kWildcard;
      } else {
        step.name = c.Name();
        if (step.name.empty()) return c.Error("expected a member name");
        step.kind = descendant ? Step::Kind::kDescendant : Step::Kind::kMember;
      }
    } else if (c.peek() == '[') {
      c.advance();
      c.SkipSpaces();
      char ch = c.peek();
      if (ch == '*') {
        c.advance();
        step.kind = Step::Kind::kWildcard;
      } else if (ch == '\'' || ch == '"') {
        TW_ASSIGN_OR_RETURN(step.name, c.Quoted());
        step.kind = Step::Kind::kMember;
      } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
        size_t start = c.pos();
        c.advance();
        while (c.peek() >= '0' && c.peek() <= '9') c.advance();
        std::string num(text.substr(start, c.pos() - start));
        if (num == "-" || num.size() > 18) return c.Error("invalid index");
        step.kind = Step::Kind::kIndex;
        step.index = std::strtoll(num.c_str(), nullptr, 10);
      } else if (ch == '?') {
        c.advance();
        if (c.peek() != '(') return c.Error("expected '(' after '?'");
        c.advance();
        c.SkipSpaces();
        if (c.peek() != '@') return c.Error("expected '@' in filter");
        c.advance();
        while (c.peek() == '.') {
          c.advance();
          std::string name = c.peek() == '\'' || c.peek() == '"' ? std::string() : c.Name();
          if (name.empty()) return c.Error("expected a member name");
          step.filter_path.push_back(std::move(name));
        }
        if (step.filter_path.empty()) return c.Error("expected '.' after '@'");
        c.SkipSpaces();
        static constexpr std::string_view kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
        for (std::string_view op : kOps) {
          if (text.substr(c.pos(), op.size()) == op) {
            step.op = std::string(op);
            c.advance(op.size());
            break;
          }
        }
        if (!step.op.empty()) {
          c.SkipSpaces();
          char lc = c.peek();
          if (lc == '\'' || lc == '"') {
            TW_ASSIGN_OR_RETURN(std::string s, c.Quoted());
            step.literal = boost::json::string(s);
          } else {
            size_t start = c.pos();
            while (!c.done() && c.peek() != ')' && c.peek() != ' ' && c.peek() != '\t') c.advance();
            std::string lit(text.substr(start, c.pos() - start));
            boost::system::error_code ec;
            boost::json::value v = boost::json::parse(lit, ec);
            if (ec || lit.empty() || !(v.is_number() || v.is_bool() || v.is_null()))
              return Status::InvalidArgument("invalid filter value at column " + std::to_string(start + 1));
            step.literal = v;
          }
          c.SkipSpaces();
        }
        if (c.peek() != ')') return c.Error("expected ')'");
        c.advance();
        step.kind = Step::Kind::kFilter;
      } else {
        return c.Error(ch == '\0' ? std::string("unexpected end of path") :
                                    std::string("unexpected '") + ch + "'");
      }
      c.SkipSpaces();
      if (c.peek() == ',' || c.peek() == ':') return c.Error("unions and slices are not supported");
      if (c.peek() != ']') return c.Error("expected ']'");
      c.advance();
    } else {
      return c.Error(std::string("unexpected '") + c.peek() + "'");
    }
    p.steps_.push_back(std::move(step));
  }
  return p;
}

bool JsonPath::FilterMatches(const Step& step, const boost::json::value& v) {
  const boost::json::value* cur = &v;
  for (const std::string& name : step.filter_path) {
    if (!cur->is_object()) return false;
    auto it = cur->as_object().find(name);
    if (it == cur->as_object().end()) return false;
    cur = &it->value();
  }
  if (step.op.empty()) return true;
  bool comparable = false;
  int cmp = Compare(*cur, step.literal, &comparable);
  if (step.op == "==") return comparable && cmp == 0;
  if (step.op == "!=") return !comparable || cmp != 0;
  if (!comparable) return false;
  if (step.op == "<") return cmp < 0;
  if (step.op == "<=") return cmp <= 0;
  if (step.op == ">") return cmp > 0;
  return cmp >= 0;
}

std::vector<const boost::json::value*> JsonPath::Evaluate(const boost::json::value& root) const {
  std::vector<const boost::json::value*> cur = {&root};
  for (const Step& step : steps_) {
    std::vector<const boost::json::value*> next;
    for (const boost::json::value* v : cur) {
      switch (step.kind) {
        case Step::Kind::kMember:
          if (v->is_object()) {
            auto it = v->as_object().find(step.name);
            if (it != v->as_object().end()) next.push_back(&it->value());
          }
          break;
        case Step::Kind::kIndex:
          if (v->is_array()) {
            int64_t n = static_cast<int64_t>(v->as_array().size());
            int64_t i = step.index < 0 ? n + step.index : step.index;
            if (i >= 0 && i < n) next.push_back(&v->as_array()[static_cast<size_t>(i)]);
          }
          break;
        case Step::Kind::kWildcard:
          if (v->is_array())
            for (const auto& e : v->as_array()) next.push_back(&e);
          else if (v->is_object())
            for (const auto& [k, e] : v->as_object()) next.push_back(&e);
          break;
        case Step::Kind::kDescendant:
          CollectDescendants(*v, step.name, next);
          break;
        case Step::Kind::kFilter:
          if (v->is_array()) {
            for (const auto& e : v->as_array())
              if (FilterMatches(step, e)) next.push_back(&e);
          } else if (v->is_object()) {
            for (const auto& [k, e] : v->as_object())
              if (FilterMatches(step, e)) next.push_back(&e);
          }
          break;
      }
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace tw::model
