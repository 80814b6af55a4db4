// `threatwall feeds sync NAME [--force] [--no-wait] [--wait-timeout D]`:
// asks the daemon's feed controller to pull a feed now and reports how that
// pull went.  The request is an annotation on the GlobalThreatFeed
// (threatwall.io/sync-request = a fresh token, ";force" appended with
// --force); the controller pulls at once and writes the token to
// status.handledSyncRequest when done.  Going through the resource keeps
// the API plain Kubernetes: kubectl annotate does the same.
#include <chrono>
#include <ostream>
#include <random>
#include <thread>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "model/kinds.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

std::string NewToken() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  return Hex64(rng());
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return -1;
}

// "1,234,567".
std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[0] != '-') out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

int RunFeedsSync(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.size() != 2) return ctx.Usage("feeds sync: expected exactly one feed name");
  const std::string& name = pos[1];
  std::chrono::milliseconds wait_timeout{std::chrono::minutes(2)};
  if (ctx.args.Has("wait-timeout")) {
    auto t = ParseTimeout(ctx.args.Get("wait-timeout"));
    if (!t) return ctx.Usage("--wait-timeout: " + t.error().message());
    wait_timeout = *t;
  }
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  const model::KindInfo* kind = model::FindKind("projectcalico.org/v3", "GlobalThreatFeed");
  std::string path = ResourcePath(*kind, "", name);

  auto current = api->Call("GET", path);
  if (!current) return ctx.Fail(current.error().message());
  if (!current->ok()) {
    *ctx.err << current->ErrorLine() << "\n";
    return kExitFailure;
  }
  const json::object& feed = current->body.as_object();
  const json::object* spec = Obj(feed, "spec");
  const json::object* pull = spec ? Obj(*spec, "pull") : nullptr;
  if (pull == nullptr || Obj(*pull, "http") == nullptr)
    return ctx.Fail("globalthreatfeed/" + name + " has no spec.pull.http: a push feed has nothing to pull");

  std::string token = NewToken();
  std::string value = ctx.args.Has("force") ? token + ";force" : token;
  json::object patch{{"metadata", json::object{{"annotations", json::object{{"threatwall.io/sync-request", value}}}}}};
  auto patched = api->Call("PATCH", path, json::serialize(patch), "application/merge-patch+json");
  if (!patched) return ctx.Fail(patched.error().message());
  if (!patched->ok()) {
    *ctx.err << patched->ErrorLine() << "\n";
    return kExitFailure;
  }
  if (ctx.args.Has("no-wait")) {
    *ctx.out << "globalthreatfeed/" << name << " sync requested\n";
    return kExitOk;
  }

  auto deadline = std::chrono::steady_clock::now() + wait_timeout;
  json::object status;
  while (true) {
    auto r = api->Call("GET", path);
    if (!r) return ctx.Fail(r.error().message());
    if (!r->ok()) {
      *ctx.err << r->ErrorLine() << "\n";
      return kExitFailure;
    }
    const json::object* st = r->body.is_object() ? Obj(r->body.as_object(), "status") : nullptr;
    if (st && Str(*st, "handledSyncRequest") == token) {
      status = *st;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return ctx.Fail("globalthreatfeed/" + name +
                      ": no answer from the feed controller in time (is threatwalld running with its feed "
                      "controller? the request stays pending: threatwall.io/sync-request=" + value + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  std::string result = Str(status, "lastPullResult");
  if (result != "Updated" && result != "Unchanged" && result != "NotModified") {
    std::string message = "the pull failed";
    if (const json::value* conds = status.if_contains("errorConditions"); conds && conds->is_array() &&
                                                                           !conds->as_array().empty()) {
      const json::value& last = conds->as_array().back();
      if (last.is_object()) message = Str(last.as_object(), "message");
    }
    return ctx.Fail("globalthreatfeed/" + name + (result == "Held" ? " sync held back: " : " sync failed: ") +
                    message);
  }
  std::string content = spec ? Str(*spec, "content") : "";
  std::string unit = content == "DomainNameSet" ? "domains" : "prefixes";
  int64_t bytes = Int(status, "lastPullBytes");
  *ctx.out << "globalthreatfeed/" << name << " synced in " << Str(status, "lastPullDuration") << ": ";
  if (result == "NotModified") {
    *ctx.out << "not modified since the last pull (HTTP 304); ";
  } else {
    *ctx.out << Grouped(Int(status, "entriesRead")) << " entries read, " << Grouped(Int(status, "invalidLines"))
             << " invalid, " << Grouped(bytes) << " bytes, " << (result == "Unchanged" ? "set unchanged, " : "");
  }
  *ctx.out << Grouped(Int(status, "entries")) << " " << unit << " in force\n";
  if (const json::value* ex = status.if_contains("invalidExamples"); ex && ex->is_array())
    for (const auto& e : ex->as_array())
      if (e.is_object())
        *ctx.out << "  line " << Int(e.as_object(), "line") << ": " << Str(e.as_object(), "text") << " ("
                 << Str(e.as_object(), "reason") << ")\n";
  return kExitOk;
}

int RunFeedsCommand(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (!pos.empty() && pos[0] == "sync") return RunFeedsSync(ctx);
  if (!pos.empty() && pos[0] != "parse") return ctx.Usage("unknown subcommand " + pos[0] + " (expected sync or parse)");
  return RunFeeds(ctx);
}

}  // namespace tw::cli
