#include "feeds/parse/parse.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <string>

#include "model/jsonpath.h"

namespace tw::feeds {
namespace json = boost::json;

size_t SpaceAt(std::string_view s) {
  if (s.empty()) return 0;
  const auto c = static_cast<unsigned char>(s[0]);
  if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n') return 1;
  if (c < 0x80 || s.size() < 2) return 0;
  const auto c1 = static_cast<unsigned char>(s[1]);
  if (c == 0xC2 && (c1 == 0xA0 || c1 == 0x85)) return 2;  // NBSP, NEL
  if (s.size() < 3) return 0;
  const auto c2 = static_cast<unsigned char>(s[2]);
  if (c == 0xE2 && c1 == 0x80 && c2 >= 0x80 && c2 <= 0x8B) return 3;  // U+2000..U+200B
  if (c == 0xE2 && c1 == 0x80 && c2 == 0xAF) return 3;                // U+202F
  if (c == 0xE2 && c1 == 0x81 && c2 == 0x9F) return 3;                // U+205F
  if (c == 0xE3 && c1 == 0x80 && c2 == 0x80) return 3;                // U+3000
  if (c == 0xEF && c1 == 0xBB && c2 == 0xBF) return 3;                // U+FEFF (BOM)
  return 0;
}

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// The last space ending at s.end(), in bytes (0 if none).
size_t SpaceBefore(std::string_view s) {
  for (size_t n = 1; n <= 3 && n <= s.size(); ++n) {
    if (SpaceAt(s.substr(s.size() - n)) == n) return n;
  }
  return 0;
}

std::string_view Trim(std::string_view s) {
  while (size_t n = SpaceAt(s)) s.remove_prefix(n);
  while (size_t n = SpaceBefore(s)) s.remove_suffix(n);
  return s;
}

// Splits off the first token (up to a space); returns it and leaves the rest.
std::string_view NextToken(std::string_view& s) {
  while (size_t n = SpaceAt(s)) s.remove_prefix(n);
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c > ' ' && c < 0x80) {  // fast path: printable ASCII is never a space
      ++i;
      continue;
    }
    if (SpaceAt(s.substr(i)) != 0) break;
    ++i;
  }
  std::string_view tok = s.substr(0, i);
  s.remove_prefix(i);
  return tok;
}

// The parsers' side of an EntrySink: forwards and counts.
class Out {
 public:
  explicit Out(EntrySink& sink) : sink_(sink) {}
  void Entry(std::string_view e, uint64_t line) { sink_.Entry(e, line); }
  void Skip(uint64_t line, std::string_view reason, std::string_view text) {
    ++counts.skipped;
    sink_.Skip(line, reason, text);
  }
  ParseCounts counts;

 private:
  EntrySink& sink_;
};

// Addresses that start a hosts-file line (the names after them are the data).
bool IsHostsAddress(std::string_view t) {
  static constexpr std::array<std::string_view, 10> kAddrs = {
      "0.0.0.0", "127.0.0.1", "127.0.1.1", "::1", "::", "255.255.255.255",
      "fe00::0", "fe80::1%lo0", "0:0:0:0:0:0:0:1", "::0"};
  if (std::find(kAddrs.begin(), kAddrs.end(), t) != kAddrs.end()) return true;
  return t.starts_with("ff00::") || t.starts_with("ff02::");
}

bool IsIgnoredHostName(std::string_view n) {
  return n == "localhost" || n == "localhost.localdomain" || n == "broadcasthost" || n == "local" ||
         n.starts_with("ip6-");
}

// Bytes that can be neither a space nor a comment start: a line made only of
// them is one bare token (the common `1.2.3.4` line), which skips the
// general path below.
constexpr std::array<bool, 256> kPlainByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0x21; c < 0x80; ++c) t[c] = c != '#' && c != ';';
  return t;
}();

// One newline-format line (without its terminator).
void NewlineLine(std::string_view line, uint64_t lineno, Out& out) {
  if (!line.empty() && line[0] != '!' && line[0] != '[' && line[0] != '|') {
    size_t i = 0;
    while (i < line.size() && kPlainByte[static_cast<unsigned char>(line[i])]) ++i;
    if (i == line.size()) {
      ++out.counts.data_lines;
      return out.Entry(line, lineno);
    }
  }
  std::string_view s = Trim(line);
  if (s.empty()) return;
  // `[Adblock Plus 2.0]`-style section lines; a bracketed IPv6 address has a colon.
  const bool section = s[0] == '[' && s.back() == ']' && s.find(':') == std::string_view::npos;
  if (s[0] == '#' || s[0] == ';' || s[0] == '!' || section) return;
  // Inline comments: `#` or `;` ends the data.  (Neither occurs in IPs or
  // host names; in URLs `#` starts a fragment, which is not needed either.)
  size_t cut = s.find_first_of("#;");
  if (cut != std::string_view::npos) s = Trim(s.substr(0, cut));
  if (s.empty()) return;
  ++out.counts.data_lines;
  std::string_view rest = s;
  std::string_view first = NextToken(rest);
  if (first.starts_with("||")) {  // adblock ||host^$options
    std::string_view host = first.substr(2);
    size_t end = host.find_first_of("^$/");
    host = host.substr(0, end);
    if (host.empty()) return out.Skip(lineno, "empty adblock rule", line);
    return out.Entry(host, lineno);
  }
  if (!Trim(rest).empty() && IsHostsAddress(first)) {
    bool any = false;
    while (true) {
      std::string_view name = NextToken(rest);
      if (name.empty()) break;
      if (IsIgnoredHostName(name)) {
        ++out.counts.ignored;
        any = true;
        continue;
      }
      out.Entry(name, lineno);
      any = true;
    }
    if (!any) out.Skip(lineno, "hosts line without a name", line);
    return;
  }
  out.Entry(first, lineno);
}

Status ParseNewline(std::string_view body, const ParseLimits& limits, Out& out) {
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  const char* p = body.data();
  const char* const end = p + body.size();
  // The next '\n' and '\r' at or after p, found with memchr and reused until
  // passed: two scans of the body in all, whatever mix of terminators it has.
  const char* lf = p;
  const char* cr = p;
  auto next = [end](const char* from, char c) {
    const void* hit = std::memchr(from, c, static_cast<size_t>(end - from));
    return hit ? static_cast<const char*>(hit) : end;
  };
  if (p < end) {
    lf = next(p, '\n');
    cr = next(p, '\r');
  }
  uint64_t lineno = 0;
  while (p < end) {
    ++lineno;
    if (lf < p) lf = next(p, '\n');
    if (cr < p) cr = next(p, '\r');
    const char* stop = lf < cr ? lf : cr;
    std::string_view line(p, static_cast<size_t>(stop - p));
    p = stop == end ? end : (stop == cr && cr + 1 < end && cr[1] == '\n' ? cr + 2 : stop + 1);
    if (line.size() > limits.max_line_bytes) {
      ++out.counts.data_lines;
      out.Skip(lineno, "line longer than " + std::to_string(limits.max_line_bytes) + " bytes", line);
      continue;
    }
    NewlineLine(line, lineno, out);
  }
  return Status::Ok();
}

// Adds the string(s) in one selected JSON value.
void JsonValue(const json::value& v, uint64_t lineno, Out& out, bool flatten) {
  if (v.is_string()) {
    ++out.counts.data_lines;
    const json::string& str = v.get_string();
    out.Entry(std::string_view(str.data(), str.size()), lineno);
  } else if (flatten && v.is_array()) {
    for (const json::value& e : v.get_array()) JsonValue(e, lineno, out, false);
  } else {
    ++out.counts.data_lines;
    out.Skip(lineno, std::string("not a string: ") + std::string(to_string(v.kind())),
           json::serialize(v).substr(0, 120));
  }
}

Status ParseJson(std::string_view body, const FeedFormat& format, const ParseLimits& limits, Out& out) {
  auto path = model::JsonPath::Compile(format.json_path);
  if (!path) return path.error().WithPrefix("format.json.path: ");
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (!ec) {
    std::vector<const json::value*> sel = path->Evaluate(doc);
    if (sel.size() == 1 && sel[0]->is_array()) {
      for (const json::value& e : sel[0]->get_array()) JsonValue(e, 1, out, false);
    } else if (sel.size() == 1 && !sel[0]->is_string()) {
      return Status::InvalidArgument("json body: path '" + format.json_path +
                                     "' does not produce an array of strings");
    } else {
      for (const json::value* v : sel) JsonValue(*v, 1, out, false);
    }
    return Status::Ok();
  }
  std::string first_error = ec.message();
  // JSON-lines: one document per line.
  uint64_t lineno = 0;
  uint64_t docs = 0;
  std::string_view rest = body;
  while (!rest.empty()) {
    ++lineno;
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    line = Trim(line);
    if (line.empty()) continue;
    if (line.size() > limits.max_line_bytes) {
      ++out.counts.data_lines;
      out.Skip(lineno, "line longer than " + std::to_string(limits.max_line_bytes) + " bytes", line);
      continue;
    }
    json::value v = json::parse(line, ec);
    if (ec) {
      if (docs == 0 && lineno == 1) {
        // Neither one document nor JSON-lines: report the whole-body error.
        return Status::InvalidArgument("json body: " + first_error);
      }
      ++out.counts.data_lines;
      out.Skip(lineno, "invalid JSON: " + ec.message(), line);
      continue;
    }
    ++docs;
    std::vector<const json::value*> sel = path->Evaluate(v);
    if (sel.empty()) {
      ++out.counts.data_lines;
      out.Skip(lineno, "path selects nothing", line);
      continue;
    }
    for (const json::value* s : sel) JsonValue(*s, lineno, out, true);
  }
  if (docs == 0 && !Trim(body).empty()) return Status::InvalidArgument("json body: " + first_error);
  return Status::Ok();
}

// ---- CSV (Go encoding/csv) ----

class CsvReader {
 public:
  CsvReader(std::string_view body, const CsvFormat& f, const ParseLimits& limits)
      : rest_(body), delim_(f.column_delimiter), comment_(f.comment_delimiter), limits_(limits) {}

  // Reads the next record into fields; false at the end.  `line` = its first line.
  Result<bool> Next(std::vector<std::string>& fields, uint64_t& line) {
    fields.clear();
    while (true) {
      if (rest_.empty()) return false;
      std::string_view l = PeekLine();
      ++lineno_;
      if ((!comment_.empty() && l.starts_with(comment_)) || StripCr(l).empty()) {
        Consume(l);
        continue;
      }
      break;
    }
    line = lineno_;
    size_t start_size = rest_.size();
    std::string field;
    while (true) {
      // Start of a field.
      field.clear();
      if (!rest_.empty() && rest_[0] == '"') {
        rest_.remove_prefix(1);
        while (true) {
          size_t q = rest_.find('"');
          if (q == std::string_view::npos) {
            return Status::InvalidArgument("csv record on line " + std::to_string(line) +
                                           ": extraneous or missing \" in quoted-field");
          }
          AppendQuoted(field, rest_.substr(0, q));
          rest_.remove_prefix(q + 1);
          if (!rest_.empty() && rest_[0] == '"') {  // "" = "
            field.push_back('"');
            rest_.remove_prefix(1);
            continue;
          }
          break;
        }
        if (Done(fields, field)) break;
        if (!rest_.starts_with(delim_)) {
          return Status::InvalidArgument("csv record on line " + std::to_string(lineno_) +
                                         ": extraneous or missing \" in quoted-field");
        }
        rest_.remove_prefix(delim_.size());
      } else {
        size_t end = 0;
        while (end < rest_.size() && rest_[end] != '\n' && !rest_.substr(end).starts_with(delim_)) {
          ++end;
        }
        std::string_view raw = rest_.substr(0, end);
        rest_.remove_prefix(end);
        if (rest_.empty() || rest_[0] == '\n') raw = StripCr(raw);
        if (raw.find('"') != std::string_view::npos) {
          return Status::InvalidArgument("csv record on line " + std::to_string(lineno_) +
                                         ": bare \" in non-quoted-field");
        }
        field.assign(raw);
        if (Done(fields, field)) break;
        rest_.remove_prefix(delim_.size());
      }
      if (start_size - rest_.size() > limits_.max_line_bytes) {
        return Status::InvalidArgument("csv record on line " + std::to_string(line) + ": longer than " +
                                       std::to_string(limits_.max_line_bytes) + " bytes");
      }
    }
    if (start_size - rest_.size() > limits_.max_line_bytes) {
      return Status::InvalidArgument("csv record on line " + std::to_string(line) + ": longer than " +
                                     std::to_string(limits_.max_line_bytes) + " bytes");
    }
    return true;
  }

 private:
  static std::string_view StripCr(std::string_view s) {
    while (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  }
  std::string_view PeekLine() const { return rest_.substr(0, rest_.find('\n')); }
  void Consume(std::string_view l) {
    rest_.remove_prefix(std::min(rest_.size(), l.size() + 1));
  }
  // Quoted text may span lines: count them, and turn \r\n into \n as Go does.
  void AppendQuoted(std::string& field, std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n') ++lineno_;
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
      field.push_back(s[i]);
    }
  }
  // After a field: at end of line or body the record is complete.
  bool Done(std::vector<std::string>& fields, std::string& field) {
    if (rest_.empty() || rest_[0] == '\n' || (rest_.starts_with("\r\n")) ||
        (rest_ == "\r")) {
      fields.push_back(std::move(field));
      size_t nl = rest_.find('\n');
      rest_.remove_prefix(nl == std::string_view::npos ? rest_.size() : nl + 1);
      return true;
    }
    fields.push_back(field);
    return false;
  }

  std::string_view rest_;
  std::string_view delim_;
  std::string_view comment_;
  const ParseLimits& limits_;
  uint64_t lineno_ = 0;
};

Status ParseCsv(std::string_view body, const CsvFormat& f, const ParseLimits& limits, Out& out) {
  if (f.column_delimiter.empty() || f.column_delimiter == "\"" || f.column_delimiter == "\n" ||
      f.column_delimiter == "\r") {
    return Status::InvalidArgument("format.csv.columnDelimiter: invalid delimiter");
  }
  if (f.comment_delimiter == f.column_delimiter) {
    return Status::InvalidArgument("format.csv.commentDelimiter: must differ from columnDelimiter");
  }
  if (!f.field_name.empty() && !f.header) {
    return Status::InvalidArgument("format.csv.fieldName: requires header: true");
  }
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  CsvReader reader(body, f, limits);
  std::vector<std::string> fields;
  uint64_t line = 0;
  size_t want = f.record_size;
  size_t column = f.field_num.value_or(0);
  bool first = true;
  while (true) {
    TW_ASSIGN_OR_RETURN(bool more, reader.Next(fields, line));
    if (!more) break;
    if (!f.disable_record_size_validation) {
      if (want == 0) want = fields.size();
      if (fields.size() != want) {
        return Status::InvalidArgument("csv record on line " + std::to_string(line) +
                                       ": wrong number of fields (" + std::to_string(fields.size()) +
                                       ", want " + std::to_string(want) + ")");
      }
    }
    if (first && f.header) {
      first = false;
      if (!f.field_name.empty()) {
        auto it = std::find(fields.begin(), fields.end(), f.field_name);
        if (it == fields.end()) {
          return Status::InvalidArgument("format.csv.fieldName: column '" + f.field_name +
                                         "' not in the header on line " + std::to_string(line));
        }
        column = static_cast<size_t>(it - fields.begin());
      }
      continue;
    }
    first = false;
    ++out.counts.data_lines;
    if (column >= fields.size()) {
      out.Skip(line, "record has no column " + std::to_string(column), fields.empty() ? "" : fields[0]);
      continue;
    }
    out.Entry(fields[column], line);
  }
  return Status::Ok();
}

}  // namespace

Result<ParseCounts> ParseFeedBody(std::string_view body, const FeedFormat& format, Content /*content*/,
                                  const ParseLimits& limits, EntrySink& sink) {
  if (body.size() > limits.max_body_bytes) {
    return Status::TooLarge("feed body of " + std::to_string(body.size()) + " bytes is over the limit of " +
                            std::to_string(limits.max_body_bytes));
  }
  Out out(sink);
  switch (format.kind) {
    case FeedFormat::Kind::kNewlineDelimited:
      TW_RETURN_IF_ERROR(ParseNewline(body, limits, out));
      break;
    case FeedFormat::Kind::kJson:
      try {
        TW_RETURN_IF_ERROR(ParseJson(body, format, limits, out));
      } catch (const std::exception& e) {  // allocation failures and the like
        return Status::InvalidArgument(std::string("json body: ") + e.what());
      }
      break;
    case FeedFormat::Kind::kCsv:
      TW_RETURN_IF_ERROR(ParseCsv(body, format.csv, limits, out));
      break;
  }
  return out.counts;
}

namespace {

// Collects into a ParsedBody; copies entries that do not view `body`.
class Collector final : public EntrySink {
 public:
  Collector(std::string_view body, ParsedBody& out, const ParseLimits& limits)
      : body_(body), out_(out), limits_(limits) {}
  void Entry(std::string_view e, uint64_t line) override {
    // std::less gives a total order even for pointers into different objects.
    std::less<const char*> lt;
    const bool in_body = !lt(e.data(), body_.data()) && !lt(body_.data() + body_.size(), e.data() + e.size());
    if (!in_body) {
      out_.storage_.emplace_back(e);
      e = out_.storage_.back();
    }
    out_.entries.push_back(e);
    out_.entry_lines.push_back(line);
  }
  void Skip(uint64_t line, std::string_view reason, std::string_view text) override {
    if (out_.examples.size() < limits_.max_examples) {
      out_.examples.push_back({line, std::string(reason), std::string(text.substr(0, 120))});
    }
  }

 private:
  std::string_view body_;
  ParsedBody& out_;
  const ParseLimits& limits_;
};

}  // namespace

Result<ParsedBody> ParseFeedBody(std::string_view body, const FeedFormat& format, Content content,
                                 const ParseLimits& limits) {
  ParsedBody out;
  Collector collector(body, out, limits);
  TW_ASSIGN_OR_RETURN(ParseCounts counts, ParseFeedBody(body, format, content, limits, collector));
  out.data_lines = counts.data_lines;
  out.skipped = counts.skipped;
  out.ignored = counts.ignored;
  return out;
}

}  // namespace tw::feeds
