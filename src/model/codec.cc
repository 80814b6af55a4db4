#include "model/codec.h"

#include <boost/json/basic_parser_impl.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <istream>
#include <map>
#include <set>
#include <memory>
#include <streambuf>
#include <utility>

#include <fmt/format.h>

#include "base/strings.h"

namespace tw::model {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Numbers the way Go formats them (strconv.FormatFloat, encoding/json).

struct Digits {
  std::string digits;  // shortest round-trip digits, no leading zeros ("15")
  int dp = 0;          // decimal point position: value = 0.digits * 10^dp
  bool negative = false;
};

Digits ShortestDigits(double d, bool as_float32) {
  char buf[64];
  auto res = as_float32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d),
                                        std::chars_format::scientific)
                        : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, res.ptr - buf);
  Digits out;
  if (!s.empty() && s[0] == '-') {
    out.negative = true;
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  std::string_view mant = s.substr(0, e);
  int exp10 = std::atoi(std::string(s.substr(e + 1)).c_str());
  for (char c : mant)
    if (c != '.') out.digits += c;
  while (out.digits.size() > 1 && out.digits.back() == '0') out.digits.pop_back();
  out.dp = exp10 + 1;
  if (out.digits == "0") out.dp = 1;
  return out;
}

std::string FormatE(const Digits& d) {
  std::string out = d.negative ? "-" : "";
  out += d.digits[0];
  if (d.digits.size() > 1) {
    out += '.';
    out.append(d.digits, 1);
  }
  int exp = d.digits == "0" ? 0 : d.dp - 1;
  out += exp < 0 ? "e-" : "e+";
  int a = exp < 0 ? -exp : exp;
  if (a < 10) out += '0';
  out += std::to_string(a);
  return out;
}

std::string FormatF(const Digits& d) {
  std::string out = d.negative ? "-" : "";
  int nd = static_cast<int>(d.digits.size());
  if (d.dp <= 0) {
    out += "0.";
    out.append(-d.dp, '0');
    out += d.digits;
  } else if (d.dp >= nd) {
    out += d.digits;
    out.append(d.dp - nd, '0');
  } else {
    out.append(d.digits, 0, d.dp);
    out += '.';
    out.append(d.digits, d.dp);
  }
  return out;
}

// strconv.FormatFloat(d, 'g', -1, bits), with go-yaml's names for
// infinities and NaN.
std::string GoFormatG(double d, bool as_float32) {
  if (std::isnan(d)) return ".nan";
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  Digits digits = ShortestDigits(d, as_float32);
  int exp = digits.dp - 1;
  if (digits.digits != "0" && (exp < -4 || exp >= 6)) return FormatE(digits);
  return FormatF(digits);
}

// encoding/json's float64 format.
std::string GoJsonFloat(double d) {
  double a = std::fabs(d);
  Digits digits = ShortestDigits(d, false);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    std::string s = FormatE(digits);
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    return s;
  }
  return FormatF(digits);
}

// A double as it arrives after Kubernetes' YAML -> JSON text -> decode trip:
// integral values become integers (Go prints 1e3 as 1000).  Done on the
// value, not by printing and re-parsing: boost::json 1.81 does not always
// round decimal text to the nearest double.
json::value CanonicalDouble(double d) {
  if (std::isfinite(d) && d == std::trunc(d)) {
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return static_cast<int64_t>(d);
    if (d >= 0 && d < 18446744073709551616.0) return static_cast<uint64_t>(d);
  }
  return d;
}

// ---------------------------------------------------------------------------
// Plain scalar resolution (go-yaml v2 resolve.go semantics).

enum class Kind { kNull, kBool, kInt, kUint, kFloat, kString, kTimestamp };

struct Resolved {
  Kind kind = Kind::kString;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// strconv.ParseUint(s, 0, 64) on a string without underscores.
// Returns 0 ok, 1 syntax error, 2 range error.
int GoParseUint(std::string_view s, uint64_t& out) {
  if (s.empty()) return 1;
  int base = 10;
  if (s[0] == '0') {
    char c1 = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : 0;
    if (c1 == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else if (c1 == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (c1 == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  uint64_t n = 0;
  bool overflow = false;
  for (char c : s) {
    int dv = DigitValue(c);
    if (dv >= base) return 1;
    if (n > (UINT64_MAX - static_cast<uint64_t>(dv)) / static_cast<uint64_t>(base)) overflow = true;
    n = n * base + dv;
  }
  if (overflow) return 2;
  out = n;
  return 0;
}

// strconv.ParseInt(s, 0, 64).
int GoParseInt(std::string_view s, int64_t& out) {
  if (s.empty()) return 1;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t u = 0;
  int rc = GoParseUint(s, u);
  if (rc) return rc;
  if (!neg && u >= (uint64_t{1} << 63)) return 2;
  if (neg && u > (uint64_t{1} << 63)) return 2;
  out = neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
  return 0;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < n && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == start) return false;
  } else {
    size_t start = i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == start) return false;
    if (i < n && s[i] == '.') {
      ++i;
      while (i < n && IsDigit(s[i])) ++i;
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == n;
}

// strconv.ParseFloat on a string already known to be decimal float syntax.
// False when it overflows (Go reports a range error; underflow is fine).
bool ParseDecimalFloat(std::string_view s, double& out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  if (res.ec == std::errc() && res.ptr == s.data() + s.size()) return true;
  if (res.ec == std::errc::result_out_of_range) {
    // Overflow or underflow: strtod tells them apart (HUGE_VAL vs tiny).
    std::string copy(s);
    double d = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(d)) return false;
    out = d;
    return true;
  }
  return false;
}

int ParseNum(std::string_view s, size_t& i, int min_digits, int max_digits) {
  int v = 0, n = 0;
  while (i < s.size() && IsDigit(s[i]) && n < max_digits) {
    v = v * 10 + (s[i] - '0');
    ++i;
    ++n;
  }
  return n >= min_digits ? v : -1;
}

// go-yaml's parseTimestamp: "2006-1-2", "2006-1-2T15:4:5.999999999Z07:00"
// (also lower-case t), "2006-1-2 15:4:5.999999999".
bool IsTimestamp(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i != 4 || i == s.size() || s[i] != '-') return false;
  int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  ++i;
  int month = ParseNum(s, i, 1, 2);
  if (month < 1 || month > 12 || i >= s.size() || s[i] != '-') return false;
  ++i;
  int day = ParseNum(s, i, 1, 2);
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day < 1 || day > kDays[month - 1]) return false;
  if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) return false;
  if (i == s.size()) return true;
  char sep = s[i];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  ++i;
  int hour = ParseNum(s, i, 1, 2);
  if (hour < 0 || hour > 23 || i >= s.size() || s[i] != ':') return false;
  ++i;
  int minute = ParseNum(s, i, 1, 2);
  if (minute < 0 || minute > 59 || i >= s.size() || s[i] != ':') return false;
  ++i;
  int second = ParseNum(s, i, 1, 2);
  if (second < 0 || second > 59) return false;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  if (sep == ' ') return i == s.size();
  if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    ++i;
    int hh = ParseNum(s, i, 2, 2);
    if (hh < 0 || i >= s.size() || s[i] != ':') return false;
    ++i;
    int mm = ParseNum(s, i, 2, 2);
    return mm >= 0 && hh < 24 && mm < 60 && i == s.size();
  }
  return false;
}

// ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ (go-yaml quotes these).
bool IsBase60Float(std::string_view s) {
  size_t i = 0, n = s.size();
  if (n == 0 || s.find(':') == std::string_view::npos) return false;
  if (s[i] == '+' || s[i] == '-') ++i;
  if (i >= n || !IsDigit(s[i])) return false;
  while (i < n && (IsDigit(s[i]) || s[i] == '_')) ++i;
  int groups = 0;
  while (i < n && s[i] == ':') {
    ++i;
    if (i < n && s[i] >= '0' && s[i] <= '5' && i + 1 < n && IsDigit(s[i + 1])) {
      i += 2;
    } else if (i < n && IsDigit(s[i])) {
      ++i;
    } else {
      return false;
    }
    ++groups;
  }
  if (groups == 0) return false;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && (IsDigit(s[i]) || s[i] == '_')) ++i;
  }
  return i == n;
}

struct MapEntry {
  std::string_view text;
  Kind kind;
  bool b;
  double d;
};

constexpr double kInf = HUGE_VAL;

const MapEntry kResolveMap[] = {
    {"y", Kind::kBool, true, 0},      {"Y", Kind::kBool, true, 0},
    {"yes", Kind::kBool, true, 0},    {"Yes", Kind::kBool, true, 0},
    {"YES", Kind::kBool, true, 0},    {"true", Kind::kBool, true, 0},
    {"True", Kind::kBool, true, 0},   {"TRUE", Kind::kBool, true, 0},
    {"on", Kind::kBool, true, 0},     {"On", Kind::kBool, true, 0},
    {"ON", Kind::kBool, true, 0},     {"n", Kind::kBool, false, 0},
    {"N", Kind::kBool, false, 0},     {"no", Kind::kBool, false, 0},
    {"No", Kind::kBool, false, 0},    {"NO", Kind::kBool, false, 0},
    {"false", Kind::kBool, false, 0}, {"False", Kind::kBool, false, 0},
    {"FALSE", Kind::kBool, false, 0}, {"off", Kind::kBool, false, 0},
    {"Off", Kind::kBool, false, 0},   {"OFF", Kind::kBool, false, 0},
    {"", Kind::kNull, false, 0},      {"~", Kind::kNull, false, 0},
    {"null", Kind::kNull, false, 0},  {"Null", Kind::kNull, false, 0},
    {"NULL", Kind::kNull, false, 0},  {".nan", Kind::kFloat, false, NAN},
    {".NaN", Kind::kFloat, false, NAN}, {".NAN", Kind::kFloat, false, NAN},
    {".inf", Kind::kFloat, false, kInf}, {".Inf", Kind::kFloat, false, kInf},
    {".INF", Kind::kFloat, false, kInf}, {"+.inf", Kind::kFloat, false, kInf},
    {"+.Inf", Kind::kFloat, false, kInf}, {"+.INF", Kind::kFloat, false, kInf},
    {"-.inf", Kind::kFloat, false, -kInf}, {"-.Inf", Kind::kFloat, false, -kInf},
    {"-.INF", Kind::kFloat, false, -kInf},
};

// go-yaml v2's resolve() for an untagged plain scalar.
Resolved Resolve(std::string_view in) {
  Resolved r;
  char hint = 'N';
  if (!in.empty()) {
    char c = in[0];
    if (c == '+' || c == '-') {
      hint = 'S';
    } else if (IsDigit(c)) {
      hint = 'D';
    } else if (std::string_view("yYnNtTfFoO~").find(c) != std::string_view::npos) {
      hint = 'M';
    } else if (c == '.') {
      hint = '.';
    } else {
      return r;  // string
    }
  }
  // Table lookups only for short candidates: keeps the hot path (long
  // strings such as CIDRs) cheap.
  if (in.size() <= 6) {
    for (const MapEntry& e : kResolveMap) {
      if (e.text == in) {
        r.kind = e.kind;
        r.b = e.b;
        r.d = e.d;
        return r;
      }
    }
  }
  if (hint == '.') {
    double d;
    if (IsYamlStyleFloat(in) && ParseDecimalFloat(in, d)) {
      r.kind = Kind::kFloat;
      r.d = d;
    }
    return r;
  }
  if (hint == 'D' || hint == 'S') {
    if (IsTimestamp(in)) {
      r.kind = Kind::kTimestamp;
      return r;
    }
    // Characters no number can contain (e.g. the '/' of a CIDR): a string.
    for (char c : in) {
      if (!(IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '-' ||
            c == '.' || c == '_'))
        return r;
    }
    std::string plain_buf;
    std::string_view plain = in;
    if (in.find('_') != std::string_view::npos) {
      for (char c : in)
        if (c != '_') plain_buf += c;
      plain = plain_buf;
    }
    int64_t i;
    if (GoParseInt(plain, i) == 0) {
      r.kind = Kind::kInt;
      r.i = i;
      return r;
    }
    uint64_t u;
    if (GoParseUint(plain, u) == 0) {
      r.kind = Kind::kUint;
      r.u = u;
      return r;
    }
    double d;
    if (IsYamlStyleFloat(plain) && ParseDecimalFloat(plain, d)) {
      r.kind = Kind::kFloat;
      r.d = d;
      return r;
    }
  }
  return r;
}

// The first byte offset that YAML does not allow in a stream (libyaml's
// reader check: invalid UTF-8, or a control character other than tab, LF,
// CR and NEL), or npos.  yaml-cpp 0.7 does not check this itself and can
// loop forever on a NUL byte.
size_t FindForbiddenChar(std::string_view s, std::string_view& reason) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        reason = "control characters are not allowed";
        return i;
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      reason = "invalid UTF-8";
      return i;
    }
    if ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF) {
      reason = "control characters are not allowed";
      return i;
    }
    i += n;
  }
  return std::string_view::npos;
}

// Which document of a YAML stream `offset` falls in (for errors found before
// parsing): counts "---" lines that follow some content.
int DocumentAt(std::string_view text, size_t offset) {
  int doc = 1;
  bool content = false;
  size_t pos = 0;
  while (pos < offset && pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    bool marker = line.substr(0, 3) == "---" && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' ||
                                                 line[3] == '\r');
    std::string_view rest = marker ? line.substr(3) : line;
    size_t first = rest.find_first_not_of(" \t\r");
    bool has_content = first != std::string_view::npos && rest[first] != '#' && !(rest[first] == '%' && !marker);
    if (marker && content) ++doc;
    if (marker) content = has_content;
    else if (has_content) content = true;
    pos = eol + 1;
  }
  return doc;
}

void LineColumn(std::string_view text, size_t offset, size_t& line, size_t& column) {
  line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  column = offset - line_start + 1;
}

// ---------------------------------------------------------------------------
// YAML -> JSON values.

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// Thrown inside the yaml-cpp event callbacks (yaml-cpp is exception based);
// caught in ParseYamlStream and turned into a Status.
struct BuildError {
  YAML::Mark mark;
  std::string message;
};

// A std::streambuf over caller-owned memory (yaml-cpp wants an istream; this
// avoids copying a 64 MiB manifest).
class MemoryBuf : public std::streambuf {
 public:
  explicit MemoryBuf(std::string_view s) {
    char* p = const_cast<char*>(s.data());
    setg(p, p, p + s.size());
  }
};

class JsonBuilder : public YAML::EventHandler {
 public:
  explicit JsonBuilder(std::string_view text) : text_(text), alias_budget_(1000000 + 20 * text.size()) {}

  // The finished document (null for an empty one).
  json::value TakeDocument() { return std::move(document_); }

  const YAML::Mark& document_mark() const { return document_mark_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    document_mark_ = mark;
    stack_.clear();
    anchors_.clear();
    document_ = nullptr;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (ExpectingKey()) throw BuildError{mark, "null map keys are not supported"};
    Add(mark, json::value(nullptr), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw BuildError{mark, "alias refers to a node that contains it"};
    alias_nodes_ += it->second.nodes;
    if (alias_nodes_ > alias_budget_) throw BuildError{mark, "document contains excessive aliasing"};
    if (ExpectingKey()) {
      const json::value& v = it->second.value;
      if (v.is_object() || v.is_array()) throw BuildError{mark, "map keys must be scalars"};
      AddKey(mark, KeyString(mark, v));
      return;
    }
    Add(mark, it->second.value, YAML::NullAnchor, it->second.nodes);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    CheckQuoteClosed(mark);
    if (ExpectingKey()) {
      Frame& f = stack_.back();
      if (tag == "?" && value == "<<") {
        f.merge_next = true;
        f.key_mark = mark;
        f.have_key = true;
        return;
      }
      json::value v = ScalarValue(mark, tag, value, /*as_key=*/true);
      std::string key = KeyString(mark, v);
      if (anchor != YAML::NullAnchor) anchors_[anchor] = {json::value(key), 1};
      AddKey(mark, std::move(key));
      return;
    }
    Add(mark, ScalarValue(mark, tag, value, false), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    if (ExpectingKey()) throw BuildError{mark, "map keys must be scalars"};
    Push(json::array(), mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    if (ExpectingKey()) throw BuildError{mark, "map keys must be scalars"};
    Push(json::object(), mark, anchor);
  }
  void OnMapEnd() override {
    Frame& f = stack_.back();
    // Merge keys: explicit keys win, then earlier merge sources.
    json::object& obj = f.value.as_object();
    for (json::value& src : f.merges) {
      for (auto& kv : src.as_object())
        if (!obj.contains(kv.key())) obj.emplace(kv.key(), std::move(kv.value()));
    }
    Close();
  }

 private:
  struct Anchored {
    json::value value;
    size_t nodes = 1;
  };
  struct Frame {
    json::value value;  // array or object
    YAML::Mark mark;
    YAML::anchor_t anchor = YAML::NullAnchor;
    size_t nodes = 1;
    // Objects only.
    bool have_key = false;
    bool merge_next = false;
    std::string key;
    YAML::Mark key_mark;
    std::vector<json::value> merges;
  };

  void Push(json::value v, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Frame& f = stack_.emplace_back();
    f.value = std::move(v);
    f.mark = mark;
    f.anchor = anchor;
  }

  // yaml-cpp 0.7 accepts a quoted scalar that runs to the end of the input;
  // YAML (and go-yaml) do not.
  void CheckQuoteClosed(const YAML::Mark& mark) const {
    if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= text_.size()) return;
    size_t i = static_cast<size_t>(mark.pos);
    char q = text_[i];
    if (q != '"' && q != '\'') return;
    for (++i; i < text_.size(); ++i) {
      if (q == '"' && text_[i] == '\\') {
        ++i;
      } else if (text_[i] == q) {
        if (q == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;
        } else {
          return;
        }
      }
    }
    throw BuildError{mark, "unterminated quoted string"};
  }

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().have_key;
  }

  json::value ScalarValue(const YAML::Mark& mark, const std::string& tag, const std::string& value,
                          bool as_key) {
    if (tag == "!") return json::value(json::string_view(value));
    std::string_view short_tag;
    if (tag != "?") {
      if (std::string_view(tag).substr(0, kTagPrefix.size()) != kTagPrefix)
        return json::value(json::string_view(value));  // unknown tag: keep the text
      short_tag = std::string_view(tag).substr(kTagPrefix.size());
      if (short_tag == "str" || short_tag == "timestamp") return json::value(json::string_view(value));
      if (short_tag == "binary") throw BuildError{mark, "!!binary values are not supported"};
      if (short_tag != "int" && short_tag != "float" && short_tag != "bool" && short_tag != "null" &&
          short_tag != "merge")
        return json::value(json::string_view(value));
    }
    Resolved r = Resolve(value);
    if (!short_tag.empty() && short_tag != "merge") {
      bool fits = (short_tag == "int" && (r.kind == Kind::kInt || r.kind == Kind::kUint)) ||
                  (short_tag == "float" &&
                   (r.kind == Kind::kFloat || r.kind == Kind::kInt || r.kind == Kind::kUint)) ||
                  (short_tag == "bool" && r.kind == Kind::kBool) ||
                  (short_tag == "null" && r.kind == Kind::kNull);
      if (!fits)
        throw BuildError{mark, fmt::format("cannot decode {} as !!{}", Quote(value), short_tag)};
      if (short_tag == "float" && r.kind == Kind::kInt) r = {Kind::kFloat, false, 0, 0, double(r.i)};
      if (short_tag == "float" && r.kind == Kind::kUint) r = {Kind::kFloat, false, 0, 0, double(r.u)};
    }
    switch (r.kind) {
      case Kind::kNull:
        return nullptr;
      case Kind::kBool:
        return r.b;
      case Kind::kInt:
        return r.i;
      case Kind::kUint:
        return r.u;
      case Kind::kFloat:
        if (as_key) return r.d;  // KeyString formats it
        if (!std::isfinite(r.d))
          throw BuildError{mark, fmt::format("{} cannot be represented in JSON", Quote(value))};
        return CanonicalDouble(r.d);
      case Kind::kString:
      case Kind::kTimestamp:
        break;
    }
    return json::value(json::string_view(value));
  }

  static std::string Quote(std::string_view s) {
    std::string out = "`";
    out += s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s);
    out += "`";
    return out;
  }

  // sigs.k8s.io/yaml's conversion of a resolved key to a JSON key.
  std::string KeyString(const YAML::Mark& mark, const json::value& v) {
    switch (v.kind()) {
      case json::kind::string:
        return std::string(v.get_string());
      case json::kind::int64:
        return std::to_string(v.get_int64());
      case json::kind::double_:
        return GoFormatG(v.get_double(), /*as_float32=*/true);
      case json::kind::bool_:
        return v.get_bool() ? "true" : "false";
      case json::kind::uint64:
        throw BuildError{mark, "map key out of the int64 range is not supported"};
      case json::kind::null:
        throw BuildError{mark, "null map keys are not supported"};
      default:
        throw BuildError{mark, "map keys must be scalars"};
    }
  }

  void AddKey(const YAML::Mark& mark, std::string key) {
    Frame& f = stack_.back();
    if (f.value.as_object().contains(key))
      throw BuildError{mark, fmt::format("duplicate map key {}", tw::Quote(key))};
    f.key = std::move(key);
    f.key_mark = mark;
    f.have_key = true;
    f.merge_next = false;
  }

  // Adds a finished value to the enclosing collection (or as the document).
  void Add(const YAML::Mark& mark, json::value v, YAML::anchor_t anchor, size_t nodes = 1) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = {v, nodes};
    if (stack_.empty()) {
      document_ = std::move(v);
      return;
    }
    Frame& f = stack_.back();
    f.nodes += nodes;
    if (f.value.is_array()) {
      f.value.as_array().push_back(std::move(v));
      return;
    }
    // A map value.
    if (f.merge_next) {
      if (v.is_object()) {
        f.merges.push_back(std::move(v));
      } else if (v.is_array()) {
        for (json::value& item : v.as_array()) {
          if (!item.is_object())
            throw BuildError{mark, "a merge key (<<) needs a map or a list of maps"};
          f.merges.push_back(std::move(item));
        }
      } else {
        throw BuildError{mark, "a merge key (<<) needs a map or a list of maps"};
      }
    } else {
      f.value.as_object().emplace(f.key, std::move(v));
    }
    f.have_key = false;
    f.merge_next = false;
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Add(f.mark, std::move(f.value), f.anchor, f.nodes);
  }

  std::string_view text_;
  YAML::Mark document_mark_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  json::value document_;
  size_t alias_nodes_ = 0;
  size_t alias_budget_;
};

std::string PositionPrefix(int document, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0)
    return fmt::format("document {}", document);
  return fmt::format("document {}: line {}, column {}", document, mark.line + 1, mark.column + 1);
}

// ---------------------------------------------------------------------------
// JSON values -> YAML text (a re-implementation of the parts of libyaml's
// emitter that go-yaml v2 uses for block-style output).

bool IsAsciiLetter(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// unicode.IsLetter, approximated: non-ASCII code points count as letters.
bool IsLetter(uint32_t c) { return IsAsciiLetter(c) || c >= 0x80; }
bool IsDigitRune(uint32_t c) { return c >= '0' && c <= '9'; }

std::vector<uint32_t> Runes(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

// go-yaml v2 sorter.go keyList.Less for two string keys.
bool GoYamlKeyLess(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    bool al = IsLetter(a[i]), bl = IsLetter(b[i]);
    if (al && bl) return a[i] < b[i];
    if (al || bl) return bl;
    uint64_t an = 0, bn = 0;  // wraps like Go's int64 would
    if (a[i] == '0' || b[i] == '0') {
      for (size_t j = i; j-- > 0 && IsDigitRune(a[j]);) {
        if (a[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < a.size() && IsDigitRune(a[ai]); ++ai) an = an * 10 + (a[ai] - '0');
    for (; bi < b.size() && IsDigitRune(b[bi]); ++bi) bn = bn * 10 + (b[bi] - '0');
    if (an != bn) return static_cast<int64_t>(an) < static_cast<int64_t>(bn);
    if (ai != bi) return ai < bi;
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

// Keys of `obj` in go-yaml's order.  A plain merge sort: it stays in bounds
// even if the comparison is not a strict weak order (it is not, for
// pathological digit runs), where std::sort would not.
std::vector<const json::key_value_pair*> SortedEntries(const json::object& obj) {
  std::vector<const json::key_value_pair*> items;
  items.reserve(obj.size());
  for (const auto& kv : obj) items.push_back(&kv);
  bool ascii_simple = true;
  for (const auto* kv : items) {
    for (char c : kv->key()) {
      if (!IsAsciiLetter(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '/') {
        ascii_simple = false;
        break;
      }
    }
    if (!ascii_simple) break;
  }
  if (ascii_simple) {
    // Only letters and - . / (all below letters in ASCII): go-yaml's order is
    // byte order here, and std::sort is safe with a real strict weak order.
    std::sort(items.begin(), items.end(),
              [](const auto* x, const auto* y) { return x->key() < y->key(); });
    return items;
  }
  std::vector<std::vector<uint32_t>> runes(items.size());
  for (size_t i = 0; i < items.size(); ++i) runes[i] = Runes(items[i]->key());
  std::vector<size_t> idx(items.size()), tmp(items.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  for (size_t width = 1; width < idx.size(); width *= 2) {
    for (size_t lo = 0; lo < idx.size(); lo += 2 * width) {
      size_t mid = std::min(lo + width, idx.size()), hi = std::min(lo + 2 * width, idx.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = GoYamlKeyLess(runes[idx[j]], runes[idx[i]]) ? idx[j++] : idx[i++];
      while (i < mid) tmp[k++] = idx[i++];
      while (j < hi) tmp[k++] = idx[j++];
    }
    std::swap(idx, tmp);
  }
  std::vector<const json::key_value_pair*> out;
  out.reserve(items.size());
  for (size_t i : idx) out.push_back(items[i]);
  return out;
}

enum class Style { kPlain, kSingle, kDouble, kLiteral };

struct ScalarAnalysis {
  bool multiline = false;
  bool block_plain_allowed = true;
  bool single_quoted_allowed = true;
  bool block_allowed = true;
  bool force_double = false;  // U+2028/U+2029 or invalid UTF-8
};

// go-yaml's is_printable (unicode output on).
bool IsPrintable(uint32_t c) {
  return c == 0x0A || (c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF);
}
bool IsBreak(uint32_t c) { return c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029; }
bool IsBlankOrEnd(std::string_view s, size_t i) {
  return i >= s.size() || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r';
}

// libyaml's yaml_emitter_analyze_scalar (block context only).
ScalarAnalysis Analyze(std::string_view s) {
  ScalarAnalysis a;
  if (s.empty()) {
    a.block_allowed = false;
    return a;
  }
  bool block_indicators = false, special = false, line_breaks = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
  bool break_space = false, space_break = false, previous_space = false, previous_break = false;
  if (s.substr(0, 3) == "---" || s.substr(0, 3) == "...") block_indicators = true;
  bool preceded_by_ws = true;
  size_t i = 0;
  while (i < s.size()) {
    uint32_t c = static_cast<unsigned char>(s[i]);
    size_t n = 1;
    if (c >= 0x80) {
      n = DecodeUtf8(s, i, &c);
      if (n == 0) {
        a.force_double = true;
        special = true;
        n = 1;
      }
    }
    bool followed_by_ws = IsBlankOrEnd(s, i + n);
    if (i == 0) {
      switch (c) {
        case '#': case ',': case '[': case ']': case '{': case '}': case '&': case '*':
        case '!': case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
          block_indicators = true;
          break;
        case '?': case ':':
          if (followed_by_ws) block_indicators = true;
          break;
        case '-':
          if (followed_by_ws) block_indicators = true;
          break;
        default:
          break;
      }
    } else {
      if (c == ':' && followed_by_ws) block_indicators = true;
      if (c == '#' && preceded_by_ws) block_indicators = true;
    }
    if (!IsPrintable(c)) special = true;
    if (c == 0x2028 || c == 0x2029) a.force_double = true;
    if (IsBreak(c)) line_breaks = true;
    bool last = i + n == s.size();
    if (c == ' ') {
      if (i == 0) leading_space = true;
      if (last) trailing_space = true;
      if (previous_break) break_space = true;
      previous_space = true;
      previous_break = false;
    } else if (IsBreak(c)) {
      if (i == 0) leading_break = true;
      if (last) trailing_break = true;
      if (previous_space) space_break = true;
      previous_space = false;
      previous_break = true;
    } else {
      previous_space = false;
      previous_break = false;
    }
    preceded_by_ws = c == ' ' || c == '\t' || IsBreak(c);
    i += n;
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) a.block_plain_allowed = false;
  if (trailing_space) a.block_allowed = false;
  if (break_space) {
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
  }
  if (space_break || special) {
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
    a.block_allowed = false;
  }
  if (line_breaks) a.block_plain_allowed = false;
  if (block_indicators) a.block_plain_allowed = false;
  return a;
}

// True when the plain text of `s` would read back as something other than
// this string (go-yaml's canUsePlain, inverted).
bool NeedsTypeQuoting(std::string_view s) {
  if (s.empty() || s == "<<") return true;  // "<<" plain would be a merge key
  Resolved r = Resolve(s);
  return r.kind != Kind::kString || IsBase60Float(s);
}

class YamlWriter {
 public:
  explicit YamlWriter(int width) : width_(width > 0 ? width : INT32_MAX) {}

  std::string Finish(const json::value& v) {
    EmitNode(v, -1, false);
    WriteIndent(0);
    return std::move(out_);
  }

 private:
  void Put(char c) {
    out_ += c;
    ++column_;
  }
  void PutBreak() {
    out_ += '\n';
    column_ = 0;
  }
  // Appends text without line breaks; the column advances by code points.
  void Write(std::string_view s) {
    out_ += s;
    for (char c : s)
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column_;
  }
  void WriteIndent(int indent) {
    if (indent < 0) indent = 0;
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) PutBreak();
    if (column_ < indent) {
      out_.append(indent - column_, ' ');
      column_ = indent;
    }
    whitespace_ = true;
    indention_ = true;
  }
  void WriteIndicator(std::string_view ind, bool need_ws, bool is_ws, bool is_indention) {
    if (need_ws && !whitespace_) Put(' ');
    Write(ind);
    whitespace_ = is_ws;
    indention_ = indention_ && is_indention;
  }

  static int ScalarIndent(int parent) { return parent < 0 ? 2 : parent + 2; }

  void EmitNode(const json::value& v, int parent_indent, bool mapping_context) {
    switch (v.kind()) {
      case json::kind::object:
        EmitMapping(v.get_object(), parent_indent);
        return;
      case json::kind::array:
        EmitSequence(v.get_array(), parent_indent, mapping_context);
        return;
      case json::kind::string:
        EmitString(v.get_string(), ScalarIndent(parent_indent), /*simple_key=*/false);
        return;
      default:
        WritePlainToken(ScalarToString(v));
        return;
    }
  }

  void WritePlainToken(std::string_view s) {
    if (!whitespace_) Put(' ');
    Write(s);
    whitespace_ = false;
    indention_ = false;
  }

  void EmitMapping(const json::object& obj, int parent_indent) {
    if (obj.empty()) {
      WriteIndicator("{", true, true, false);
      WriteIndicator("}", false, false, false);
      return;
    }
    int indent = parent_indent < 0 ? 0 : parent_indent + 2;
    for (const json::key_value_pair* kv : SortedEntries(obj)) {
      std::string_view key(kv->key().data(), kv->key().size());
      WriteIndent(indent);
      ScalarAnalysis a = Analyze(key);
      bool simple = !a.multiline && key.size() <= 128;
      if (simple) {
        EmitString(key, ScalarIndent(indent), /*simple_key=*/true, &a);
        WriteIndicator(":", false, false, false);
      } else {
        WriteIndicator("?", true, false, true);
        EmitString(key, ScalarIndent(indent), /*simple_key=*/false, &a);
        WriteIndent(indent);
        WriteIndicator(":", true, false, true);
      }
      EmitNode(kv->value(), indent, /*mapping_context=*/true);
    }
  }

  void EmitSequence(const json::array& arr, int parent_indent, bool mapping_context) {
    if (arr.empty()) {
      WriteIndicator("[", true, true, false);
      WriteIndicator("]", false, false, false);
      return;
    }
    bool indentless = mapping_context && !indention_;
    int indent = parent_indent < 0 ? 0 : (indentless ? parent_indent : parent_indent + 2);
    for (const json::value& item : arr) {
      WriteIndent(indent);
      WriteIndicator("-", true, false, true);
      EmitNode(item, indent, /*mapping_context=*/false);
    }
  }

  void EmitString(std::string_view s, int indent, bool simple_key, const ScalarAnalysis* given = nullptr) {
    ScalarAnalysis a = given ? *given : Analyze(s);
    Style style;
    if (s.find('\n') != std::string_view::npos) {
      style = Style::kLiteral;
    } else if (!NeedsTypeQuoting(s)) {
      style = Style::kPlain;
    } else {
      style = Style::kDouble;
    }
    if (style == Style::kPlain) {
      if (!a.block_plain_allowed) style = Style::kSingle;
      if (s.empty() && simple_key) style = Style::kSingle;
    }
    if (style == Style::kSingle && !a.single_quoted_allowed) style = Style::kDouble;
    if (style == Style::kLiteral && (!a.block_allowed || simple_key)) style = Style::kDouble;
    if (a.force_double) style = Style::kDouble;
    bool allow_breaks = !simple_key;
    switch (style) {
      case Style::kPlain:
        WritePlain(s, indent, allow_breaks);
        break;
      case Style::kSingle:
        WriteSingle(s, indent, allow_breaks);
        break;
      case Style::kDouble:
        WriteDouble(s, indent, allow_breaks);
        break;
      case Style::kLiteral:
        WriteLiteral(s, indent);
        break;
    }
  }

  void WritePlain(std::string_view s, int indent, bool allow_breaks) {
    if (!whitespace_) Put(' ');
    bool spaces = false;
    size_t run = 0;  // start of the pending run of non-space characters
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != ' ') continue;
      if (i > run) {
        Write(s.substr(run, i - run));
        indention_ = false;
        spaces = false;
      }
      if (allow_breaks && !spaces && column_ > width_ && i + 1 < s.size() && s[i + 1] != ' ') {
        WriteIndent(indent);  // the fold stands for this space
      } else {
        Put(' ');
      }
      spaces = true;
      run = i + 1;
    }
    Write(s.substr(run));
    whitespace_ = false;
    indention_ = false;
  }

  void WriteSingle(std::string_view s, int indent, bool allow_breaks) {
    WriteIndicator("'", true, false, false);
    bool spaces = false;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == ' ') {
        if (allow_breaks && !spaces && column_ > width_ && i != 0 && i != s.size() - 1 &&
            s[i + 1] != ' ') {
          WriteIndent(indent);
        } else {
          Put(' ');
        }
        spaces = true;
      } else {
        if (c == '\'') Put('\'');
        out_ += c;
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column_;
        indention_ = false;
        spaces = false;
      }
    }
    WriteIndicator("'", false, false, false);
  }

  void WriteDouble(std::string_view s, int indent, bool allow_breaks) {
    WriteIndicator("\"", true, false, false);
    bool spaces = false;
    size_t i = 0;
    while (i < s.size()) {
      uint32_t c = 0;
      size_t n = DecodeUtf8(s, i, &c);
      bool invalid = n == 0;
      if (invalid) {
        n = 1;
        c = static_cast<unsigned char>(s[i]);
      }
      if (invalid || !IsPrintable(c) || c == 0xFEFF || IsBreak(c) || c == '"' || c == '\\') {
        Put('\\');
        switch (c) {
          case 0x00: Put('0'); break;
          case 0x07: Put('a'); break;
          case 0x08: Put('b'); break;
          case 0x09: Put('t'); break;
          case 0x0A: Put('n'); break;
          case 0x0B: Put('v'); break;
          case 0x0C: Put('f'); break;
          case 0x0D: Put('r'); break;
          case 0x1B: Put('e'); break;
          case 0x22: Put('"'); break;
          case 0x5C: Put('\\'); break;
          // libyaml writes \N, \L, \P here; yaml-cpp 0.7 decodes \N to a
          // raw 0x85 byte, so the numeric forms are used instead.
          default:
            if (c <= 0xFF) {
              Write(fmt::format("x{:02X}", c));
            } else if (c <= 0xFFFF) {
              Write(fmt::format("u{:04X}", c));
            } else {
              Write(fmt::format("U{:08X}", c));
            }
        }
        spaces = false;
      } else if (c == ' ') {
        if (allow_breaks && !spaces && column_ > width_ && i != 0 && i != s.size() - 1) {
          WriteIndent(indent);
          if (s[i + 1] == ' ') Put('\\');
        } else {
          Put(' ');
        }
        spaces = true;
      } else {
        out_.append(s.substr(i, n));
        ++column_;
        spaces = false;
      }
      i += n;
    }
    WriteIndicator("\"", false, false, false);
  }

  void WriteLiteral(std::string_view s, int indent) {
    WriteIndicator("|", true, false, false);
    if (s[0] == ' ' || s[0] == '\n') WriteIndicator("2", false, false, false);
    // Chomping: none -> "-", one trailing newline -> clip, more -> "+".
    if (s.back() != '\n') {
      WriteIndicator("-", false, false, false);
    } else if (s.size() == 1 || s[s.size() - 2] == '\n') {
      WriteIndicator("+", false, false, false);
    }
    PutBreak();
    indention_ = true;
    whitespace_ = true;
    bool breaks = true;
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] == '\n') {
        PutBreak();
        indention_ = true;
        breaks = true;
        ++i;
        continue;
      }
      if (breaks) WriteIndent(indent);
      size_t end = s.find('\n', i);
      if (end == std::string_view::npos) end = s.size();
      Write(s.substr(i, end - i));
      indention_ = false;
      breaks = false;
      i = end;
    }
  }

  int width_;
  std::string out_;
  int column_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;
};

// ---------------------------------------------------------------------------
// Pretty JSON (encoding/json MarshalIndent with 4 spaces).

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0, run = 0;
  auto flush = [&](size_t upto) {
    out.append(s.substr(run, upto - run));
  };
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        ++i;
        continue;
      }
      flush(i);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
      }
      ++i;
      run = i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      flush(i);
      out += "\\ufffd";
      ++i;
      run = i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      flush(i);
      out += cp == 0x2028 ? "\\u2028" : "\\u2029";
      i += n;
      run = i;
      continue;
    }
    i += n;
  }
  flush(i);
  out += '"';
}

void AppendPrettyJson(std::string& out, const json::value& v, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(d) * 4, ' ');
  };
  switch (v.kind()) {
    case json::kind::object: {
      const json::object& obj = v.get_object();
      if (obj.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& kv : obj) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        AppendJsonString(out, std::string_view(kv.key().data(), kv.key().size()));
        out += ": ";
        AppendPrettyJson(out, kv.value(), depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    case json::kind::array: {
      const json::array& arr = v.get_array();
      if (arr.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& item : arr) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        AppendPrettyJson(out, item, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case json::kind::string:
      AppendJsonString(out, std::string_view(v.get_string().data(), v.get_string().size()));
      return;
    case json::kind::double_:
      // JSON has no NaN/Inf; print null rather than invalid JSON.
      out += std::isfinite(v.get_double()) ? GoJsonFloat(v.get_double()) : "null";
      return;
    default:
      out += ScalarToString(v);
      return;
  }
}

// A boost::json::basic_parser handler that only looks for duplicate keys
// (boost::json keeps the last of them silently; Kubernetes' strict decoding
// rejects them, as ParseYamlDocuments does).
class DuplicateKeyFinder {
 public:
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);

  const std::string& duplicate() const { return duplicate_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(size_t, json::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(key_).second) {
      duplicate_ = key_;
      ec = json::error::syntax;
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view, size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  std::vector<std::set<std::string>> keys_;
  std::string key_;
  std::string duplicate_;
};

}  // namespace

Result<boost::json::value> ResolvePlainScalar(std::string_view text) {
  Resolved r = Resolve(text);
  switch (r.kind) {
    case Kind::kNull:
      return json::value(nullptr);
    case Kind::kBool:
      return json::value(r.b);
    case Kind::kInt:
      return json::value(r.i);
    case Kind::kUint:
      return json::value(r.u);
    case Kind::kFloat:
      if (!std::isfinite(r.d))
        return Status::InvalidArgument(fmt::format("{} cannot be represented in JSON", Quote(text)));
      return CanonicalDouble(r.d);
    default:
      return json::value(json::string_view(text.data(), text.size()));
  }
}

Result<std::vector<YamlDocument>> ParseYamlStream(std::string_view text) {
  // Marks must be byte offsets into `text` (see CheckQuoteClosed).
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string_view reason;
  if (size_t bad = FindForbiddenChar(text, reason); bad != std::string_view::npos) {
    size_t line, column;
    LineColumn(text, bad, line, column);
    return Status::InvalidArgument(
        fmt::format("document {}: line {}, column {}: {}", DocumentAt(text, bad), line, column, reason));
  }
  MemoryBuf buf(text);
  std::istream in(&buf);
  std::vector<YamlDocument> docs;
  int index = 0;
  try {
    YAML::Parser parser(in);
    JsonBuilder builder(text);
    // yaml-cpp 0.7 can report empty documents forever without consuming
    // input (e.g. on a leading ','); a real document needs at least a
    // 3-byte "---" or "..." marker, which bounds their number.
    const size_t max_documents = text.size() / 3 + 2;
    int previous_start = -2;
    int repeats = 0;
    while (true) {
      ++index;
      if (static_cast<size_t>(index) > max_documents || repeats > 2) {
        const YAML::Mark& m = builder.document_mark();
        size_t pos = m.pos >= 0 ? static_cast<size_t>(m.pos) : 0;
        std::string what = pos < text.size() ? "unexpected " + Quote(text.substr(pos, 1)) : "unexpected input";
        return Status::InvalidArgument(fmt::format("{}: {}", PositionPrefix(DocumentAt(text, pos), m), what));
      }
      if (!parser.HandleNextDocument(builder)) break;
      // Stuck: another document starting where the previous one did.
      repeats = builder.document_mark().pos == previous_start ? repeats + 1 : 0;
      previous_start = builder.document_mark().pos;
      json::value doc = builder.TakeDocument();
      if (!doc.is_null()) docs.push_back({index, std::move(doc)});
    }
  } catch (const BuildError& e) {
    return Status::InvalidArgument(fmt::format("{}: {}", PositionPrefix(index, e.mark), e.message));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}: {}", PositionPrefix(index, e.mark), e.msg));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(fmt::format("document {}: {}", index, e.what()));
  } catch (...) {
    return Status::InvalidArgument(fmt::format("document {}: invalid YAML", index));
  }
  return docs;
}

Result<std::vector<boost::json::value>> ParseYamlDocuments(std::string_view text) {
  TW_ASSIGN_OR_RETURN(std::vector<YamlDocument> docs, ParseYamlStream(text));
  std::vector<json::value> out;
  out.reserve(docs.size());
  for (YamlDocument& d : docs) out.push_back(std::move(d.value));
  return out;
}

Result<std::vector<boost::json::value>> ParseJsonDocuments(std::string_view text) {
  std::vector<json::value> out;
  json::parse_options opts;
  opts.max_depth = 500;
  json::stream_parser parser({}, opts);
  size_t pos = 0;
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  auto error_at = [&](size_t offset, std::string_view reason) -> Status {
    size_t line, column;
    LineColumn(text, offset, line, column);
    return Status::InvalidArgument(
        fmt::format("document {}: line {}, column {}: {}", out.size() + 1, line, column, reason));
  };
  while (true) {
    while (pos < text.size() && is_ws(text[pos])) ++pos;
    if (pos >= text.size()) break;
    parser.reset();
    json::error_code ec;
    size_t n = parser.write_some(text.data() + pos, text.size() - pos, ec);
    if (ec) return error_at(pos + n, ec.message());
    if (!parser.done()) {
      parser.finish(ec);
      if (ec) return error_at(text.size(), ec.message());
    }
    // A second pass over the same bytes looks for duplicate keys.
    json::basic_parser<DuplicateKeyFinder> dups(opts);
    size_t m = dups.write_some(false, text.data() + pos, n, ec);
    if (ec && !dups.handler().duplicate().empty())
      return error_at(pos + m, fmt::format("duplicate map key {}", Quote(dups.handler().duplicate())));
    pos += n;
    out.push_back(parser.release());
  }
  return out;
}

std::string ToYaml(const boost::json::value& v) { return ToYaml(v, YamlOptions()); }

std::string ToYaml(const boost::json::value& v, const YamlOptions& options) {
  return YamlWriter(options.line_width).Finish(v);
}

std::string ToPrettyJson(const boost::json::value& v) {
  std::string out;
  AppendPrettyJson(out, v, 0);
  return out;
}

std::string ScalarToString(const boost::json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_:
      return GoFormatG(v.get_double(), false);
    case json::kind::string:
      return std::string(v.get_string());
    default:
      return json::serialize(v);
  }
}

}  // namespace tw::model
