// validate and selector: no server needed.
#include <charconv>
#include <ostream>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/manifests.h"
#include "model/admit.h"
#include "selector/selector.h"

namespace tw::cli {

namespace json = boost::json;

int RunValidate(Context& ctx) {
  std::vector<model::ManifestDocument> docs;
  bool failed = false;
  if (int code = ctx.ReadFileArgs(&docs, &failed); code != kExitOk) return code;
  std::string ns = ctx.args.Get("namespace", "default");
  for (const auto& doc : docs) {
    auto admitted = model::Admit(doc.value, ns);
    if (!admitted) {
      *ctx.err << DocPrefix(doc) << admitted.error().message() << "\n";
      failed = true;
      continue;
    }
    std::string name;
    if (const json::value* md = admitted->object.if_contains("metadata"); md != nullptr && md->is_object()) {
      if (const json::value* n = md->as_object().if_contains("name"); n != nullptr && n->is_string()) {
        name = std::string(n->as_string());
      }
    }
    *ctx.out << admitted->kind->kind << "/" << name << " valid\n";
  }
  if (docs.empty() && !failed) {
    *ctx.err << "threatwall: no objects found in " << Join(ctx.args.GetAll("filename"), ", ") << "\n";
    return kExitFailure;
  }
  return failed ? kExitFailure : kExitOk;
}

namespace {

// The column named by a selector error ("... at column 12"), or 0.
size_t ErrorColumn(std::string_view message) {
  size_t at = message.rfind("at column ");
  if (at == std::string_view::npos) return 0;
  std::string_view digits = message.substr(at + 10);
  size_t column = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), column);
  return column;
}

int SelectorError(const Context& ctx, std::string_view expr, const Status& error) {
  *ctx.err << "threatwall: invalid selector: " << error.message() << "\n";
  size_t column = ErrorColumn(error.message());
  if (column > 0 && expr.find('\n') == std::string_view::npos) {
    *ctx.err << "  " << expr << "\n  " << std::string(column - 1, ' ') << "^\n";
  }
  return kExitUsage;
}

}  // namespace

int RunSelector(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.empty()) return ctx.Usage("expected 'test' or 'fmt'");
  const std::string& sub = pos[0];
  if (sub != "test" && sub != "fmt") return ctx.Usage("unknown subcommand " + Quote(sub) + " (expected test or fmt)");
  if (pos.size() < 2) return ctx.Usage("missing the selector expression");
  const std::string& expr = pos[1];
  if (sub == "fmt" && pos.size() > 2) return ctx.Usage("fmt takes exactly one expression");
  selector::Labels labels;
  for (size_t i = 2; i < pos.size(); ++i) {
    size_t eq = pos[i].find('=');
    if (eq == std::string::npos || eq == 0) {
      return ctx.Usage("label " + Quote(pos[i]) + ": expected KEY=VALUE");
    }
    labels[pos[i].substr(0, eq)] = pos[i].substr(eq + 1);
  }
  auto sel = selector::Selector::Parse(expr);
  if (!sel) return SelectorError(ctx, expr, sel.error());
  if (sub == "fmt") {
    *ctx.out << sel->String() << "\n";
  } else {
    *ctx.out << (sel->Matches(labels) ? "true" : "false") << "\n";
  }
  return kExitOk;
}

}  // namespace tw::cli
