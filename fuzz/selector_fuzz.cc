// libFuzzer target for the selector parser (./run fuzz).
//
// Invariants checked on every input:
// - Parse never crashes; an error is InvalidArgument "... at column N" with
//   1 <= N <= size + 1;
// - a parsed selector's canonical form parses again to the same String();
// - Matches on a small fixed label map gives the same answer through the
//   map, the LabelLookup overload and the re-parsed canonical form.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "selector/ast.h"
#include "selector/selector.h"

namespace {

using tw::selector::LabelLookup;
using tw::selector::Labels;
using tw::selector::Selector;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Column from "<what> at column N", or 0 if the message has another shape.
size_t ErrorColumn(const std::string& message) {
  constexpr std::string_view kAt = " at column ";
  size_t at = message.rfind(kAt);
  if (at == std::string::npos || at == 0) return 0;
  size_t column = 0;
  for (size_t i = at + kAt.size(); i < message.size(); ++i) {
    char c = message[i];
    if (c < '0' || c > '9' || column > 1'000'000'000) return 0;
    column = column * 10 + static_cast<size_t>(c - '0');
  }
  return column;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Labels kLabels = {
      {"a", "x"}, {"b", ""}, {"app", "frontend"}, {"threatfeed", "snort"},
      {"app.kubernetes.io/name", "web"}, {"k", "\"'"},
  };
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sel = Selector::Parse(text);
  if (!sel.ok()) {
    Check(sel.error().IsInvalidArgument());
    size_t column = ErrorColumn(sel.error().message());
    Check(column >= 1 && column <= size + 1);
    return 0;
  }
  const std::string canon = sel->String();
  auto again = Selector::Parse(canon);
  Check(again.ok());
  Check(again->String() == canon);

  const bool matches = sel->Matches(kLabels);
  LabelLookup lookup = [](std::string_view key) -> std::optional<std::string_view> {
    auto it = kLabels.find(key);
    if (it == kLabels.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  Check(sel->Matches(lookup) == matches);
  Check(again->Matches(kLabels) == matches);

  size_t nodes = 0;
  tw::selector::ForEachNode(sel->root(), [&nodes](const tw::selector::Node&) { ++nodes; });
  Check(nodes >= 1);
  return 0;
}
