#include "base/json_text.h"

#include <cstdint>

namespace tw {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// i at the opening quote; returns the index after the closing quote, or npos.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// i at the first character of a value; returns the index after it, or npos.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        i = SkipString(s, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return std::string_view::npos;
  }
  // number, true, false, null
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !IsSpace(s[i])) ++i;
  return i;
}

// Calls visit(key, value_begin, value_end) for each member of the object at
// the start of `doc` until it returns true.  False on malformed text or
// when no visit returned true.
template <typename Visit>
bool ForEachMember(std::string_view doc, Visit visit, bool* malformed) {
  *malformed = true;
  size_t i = SkipSpace(doc, 0);
  if (i >= doc.size() || doc[i] != '{') return false;
  i = SkipSpace(doc, i + 1);
  if (i < doc.size() && doc[i] == '}') {
    *malformed = false;
    return false;
  }
  while (i < doc.size() && doc[i] == '"') {
    size_t key_end = SkipString(doc, i);
    if (key_end == std::string_view::npos) return false;
    std::string_view name = doc.substr(i + 1, key_end - i - 2);
    i = SkipSpace(doc, key_end);
    if (i >= doc.size() || doc[i] != ':') return false;
    size_t value_begin = SkipSpace(doc, i + 1);
    size_t value_end = SkipValue(doc, value_begin);
    if (value_end == std::string_view::npos) return false;
    if (visit(name, value_begin, value_end)) {
      *malformed = false;
      return true;
    }
    i = SkipSpace(doc, value_end);
    if (i < doc.size() && doc[i] == ',') {
      i = SkipSpace(doc, i + 1);
    } else {
      *malformed = !(i < doc.size() && doc[i] == '}');
      return false;
    }
  }
  return false;
}

}  // namespace

std::optional<std::pair<size_t, size_t>> FindTopLevelMember(std::string_view doc, std::string_view key) {
  std::optional<std::pair<size_t, size_t>> out;
  bool malformed = false;
  ForEachMember(
      doc,
      [&](std::string_view name, size_t b, size_t e) {
        if (name != key) return false;
        out = std::make_pair(b, e);
        return true;
      },
      &malformed);
  return out;
}

std::optional<std::vector<std::pair<std::string_view, std::string_view>>> ObjectMembers(std::string_view obj) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  bool malformed = false;
  ForEachMember(
      obj,
      [&](std::string_view name, size_t b, size_t e) {
        out.emplace_back(name, obj.substr(b, e - b));
        return false;
      },
      &malformed);
  if (malformed) return std::nullopt;
  return out;
}

std::optional<size_t> CountArrayElements(std::string_view array) {
  size_t i = SkipSpace(array, 0);
  if (i >= array.size() || array[i] != '[') return std::nullopt;
  i = SkipSpace(array, i + 1);
  if (i < array.size() && array[i] == ']') return 0;
  size_t n = 0;
  while (i < array.size()) {
    size_t end = SkipValue(array, i);
    if (end == std::string_view::npos || end == i) return std::nullopt;
    ++n;
    i = SkipSpace(array, end);
    if (i < array.size() && array[i] == ']') return n;
    if (i >= array.size() || array[i] != ',') return std::nullopt;
    i = SkipSpace(array, i + 1);
  }
  return std::nullopt;
}

std::optional<std::string> WithResourceVersionText(std::string_view doc, int64_t revision) {
  auto meta = FindTopLevelMember(doc, "metadata");
  if (!meta || doc[meta->first] != '{') return std::nullopt;
  size_t open = meta->first;
  bool empty = SkipSpace(doc, open + 1) == meta->second - 1;
  std::string member = "\"resourceVersion\":\"" + std::to_string(revision) + "\"" + (empty ? "" : ",");
  std::string out;
  out.reserve(doc.size() + member.size() + 1);  // +1: room for the caller's newline
  out.append(doc.substr(0, open + 1));
  out.append(member);
  out.append(doc.substr(open + 1));
  return out;
}

}  // namespace tw
