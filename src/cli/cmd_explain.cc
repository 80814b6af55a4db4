// explain: asks the daemon (GET /threatwall/v1/explain) what its current
// policy program does with one flow, and prints the verdict with its path.
#include <charconv>
#include <ostream>

#include "base/strings.h"
#include "cli/commands.h"
#include "model/codec.h"
#include "policy/explain.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

constexpr std::string_view kExplainPath = "/threatwall/v1/explain";

// A numeric flag within [lo, hi]; Usage-style message naming the flag.
Result<std::string> NumberFlag(const ParsedArgs& args, std::string_view flag, unsigned lo, unsigned hi) {
  std::string text = args.Get(flag);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    return Status::InvalidArgument("--" + std::string(flag) + ": invalid value " + Quote(text) + ": must be " +
                                   std::to_string(lo) + "-" + std::to_string(hi));
  }
  return std::to_string(v);
}

}  // namespace

Result<std::string> ExplainRequestPath(const ParsedArgs& args) {
  if (!args.positionals.empty()) {
    return Status::InvalidArgument("unexpected argument " + args.positionals[0] + " (use --from and --to)");
  }
  for (std::string_view flag : {"from", "to"}) {
    if (args.Get(flag).empty()) {
      return Status::InvalidArgument("--" + std::string(flag) + " is required (a pod name, NS/NAME or an IP address)");
    }
  }
  std::string ns = args.Get("namespace", "default");
  std::vector<std::pair<std::string, std::string>> query = {
      {"from", args.Get("from")},
      {"to", args.Get("to")},
      {"fromNamespace", args.Get("from-namespace", ns)},
      {"toNamespace", args.Get("to-namespace", ns)},
  };
  if (args.Has("protocol")) query.emplace_back("protocol", args.Get("protocol"));
  struct Numeric {
    std::string_view flag, param;
    unsigned lo, hi;
  };
  for (const Numeric& n : {Numeric{"port", "port", 1, 65535}, Numeric{"icmp-type", "icmpType", 0, 255},
                           Numeric{"icmp-code", "icmpCode", 0, 255}}) {
    if (!args.Has(n.flag)) continue;
    TW_ASSIGN_OR_RETURN(std::string v, NumberFlag(args, n.flag, n.lo, n.hi));
    query.emplace_back(std::string(n.param), v);
  }
  return PathWithQuery(std::string(kExplainPath), query);
}

int RunExplain(Context& ctx) {
  std::string output = ctx.args.Get("output", "text");
  if (output != "text" && output != "json" && output != "yaml") {
    return ctx.Usage("--output " + Quote(output) + ": must be text, json or yaml");
  }
  auto path = ExplainRequestPath(ctx.args);
  if (!path) return ctx.Usage(path.error().message());
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  auto r = api->Call("GET", *path);
  if (!r) return ctx.Fail(r.error().message());
  if (!r->ok()) {
    if (r->code == 404 && r->Message() == "the server could not find the requested resource") {
      return ctx.Fail("the server at " + api->server().text +
                      " has no explain API (/threatwall/v1/explain): is threatwalld older than this CLI?");
    }
    *ctx.err << r->ErrorLine() << "\n";
    return kExitFailure;
  }
  if (output == "json") {
    *ctx.out << model::ToPrettyJson(r->body) << "\n";
    return kExitOk;
  }
  if (output == "yaml") {
    *ctx.out << model::ToYaml(r->body);
    return kExitOk;
  }
  auto result = policy::ExplainFromJson(r->body);
  if (!result) return ctx.Fail("the server's answer: " + result.error().message());
  *ctx.out << policy::RenderExplain(*result);
  return kExitOk;
}

}  // namespace tw::cli
