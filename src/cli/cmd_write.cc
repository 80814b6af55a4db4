// create / apply / replace / delete: one API call (or two, for apply) per
// manifest document; a failing document is reported and the rest go on.
#include <ostream>

#include "cli/apply_patch.h"
#include "cli/commands.h"
#include "cli/manifests.h"
#include "cli/output.h"
#include "model/kinds.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

constexpr char kStrict[] = "?fieldValidation=Strict";

enum class Verb { kCreate, kApply, kReplace, kDelete };

// Outcome of one document: the word after the object reference, or an error.
struct Outcome {
  std::string word;   // "created", ...; empty on error or when silent
  std::string error;  // server message or local reason
};

Outcome Failed(const ApiResponse& r) { return {"", r.Message()}; }

Outcome DoCreate(const ApiClient& api, const Target& t, const json::value& doc) {
  auto r = api.Call("POST", ResourcePath(*t.kind, t.ns) + kStrict, json::serialize(doc));
  if (!r) return {"", r.error().message()};
  return r->ok() ? Outcome{"created", ""} : Failed(*r);
}

Outcome DoReplace(const ApiClient& api, const Target& t, const json::value& doc) {
  auto r = api.Call("PUT", ResourcePath(*t.kind, t.ns, t.name) + kStrict, json::serialize(doc));
  if (!r) return {"", r.error().message()};
  return r->ok() ? Outcome{"replaced", ""} : Failed(*r);
}

Outcome DoDelete(const ApiClient& api, const Target& t, bool ignore_not_found) {
  auto r = api.Call("DELETE", ResourcePath(*t.kind, t.ns, t.name));
  if (!r) return {"", r.error().message()};
  if (r->code == 404 && ignore_not_found) return {"", ""};
  return r->ok() ? Outcome{"deleted", ""} : Failed(*r);
}

Outcome DoApply(const ApiClient& api, const Target& t, const json::value& doc, std::ostream& err) {
  std::string path = ResourcePath(*t.kind, t.ns, t.name);
  json::object modified = WithLastApplied(doc.as_object());
  auto live = api.Call("GET", path);
  if (!live) return {"", live.error().message()};
  if (live->code == 404) {
    auto r = api.Call("POST", ResourcePath(*t.kind, t.ns) + kStrict, json::serialize(modified));
    if (!r) return {"", r.error().message()};
    return r->ok() ? Outcome{"created", ""} : Failed(*r);
  }
  if (!live->ok()) return Failed(*live);
  if (!live->body.is_object()) return {"", "the server returned a non-object for " + path};
  bool present = false;
  auto original = LastApplied(live->body.as_object(), &present);
  if (!original) return {"", original.error().message()};
  if (!present) {
    err << "Warning: " << ObjectRef(*t.kind, t.name) << " is missing the " << kLastAppliedAnnotation
        << " annotation which threatwall apply uses; it will be added now.\n";
  }
  json::object patch = ThreeWayMergePatch(*original, modified, live->body.as_object());
  if (patch.empty()) return {"unchanged", ""};
  auto r = api.Call("PATCH", path + kStrict, json::serialize(patch), "application/merge-patch+json");
  if (!r) return {"", r.error().message()};
  return r->ok() ? Outcome{"configured", ""} : Failed(*r);
}

int RunFileVerb(Context& ctx, Verb verb) {
  std::vector<model::ManifestDocument> docs;
  bool failed = false;
  if (int code = ctx.ReadFileArgs(&docs, &failed); code != kExitOk) return code;
  if (docs.empty()) {
    if (!failed) *ctx.err << "threatwall: no objects passed to " << ctx.command << "\n";
    return kExitFailure;
  }
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  std::string flag_ns = ctx.args.Get("namespace");
  for (auto& doc : docs) {
    auto target = ResolveTarget(doc.value, flag_ns);
    if (!target) {
      *ctx.err << DocPrefix(doc) << target.error().message() << "\n";
      failed = true;
      continue;
    }
    Outcome outcome;
    switch (verb) {
      case Verb::kCreate: outcome = DoCreate(*api, *target, doc.value); break;
      case Verb::kReplace: outcome = DoReplace(*api, *target, doc.value); break;
      case Verb::kApply: outcome = DoApply(*api, *target, doc.value, *ctx.err); break;
      case Verb::kDelete: outcome = DoDelete(*api, *target, ctx.args.Has("ignore-not-found")); break;
    }
    if (!outcome.error.empty()) {
      *ctx.err << DocPrefix(doc) << outcome.error << "\n";
      failed = true;
    } else if (verb == Verb::kDelete && !outcome.word.empty()) {
      // kubectl: `globalthreatfeed.projectcalico.org "x" deleted`.
      *ctx.out << KindDotGroup(*target->kind) << " \"" << target->name << "\" deleted\n";
    } else if (!outcome.word.empty()) {
      *ctx.out << ObjectRef(*target->kind, target->name) << " " << outcome.word << "\n";
    }
    ctx.out->flush();
  }
  return failed ? kExitFailure : kExitOk;
}

// `delete KIND NAME...` and `delete KIND/NAME...`.
int RunDeleteByName(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  std::vector<std::pair<const model::KindInfo*, std::string>> targets;
  const model::KindInfo* kind = nullptr;
  for (size_t i = 0; i < pos.size(); ++i) {
    size_t slash = pos[i].find('/');
    if (slash != std::string::npos) {
      const model::KindInfo* k = model::ResolveKindAlias(pos[i].substr(0, slash));
      if (k == nullptr) {
        return ctx.Fail("the server doesn't have a resource type \"" + pos[i].substr(0, slash) + "\"");
      }
      targets.emplace_back(k, pos[i].substr(slash + 1));
    } else if (i == 0) {
      kind = model::ResolveKindAlias(pos[i]);
      if (kind == nullptr) return ctx.Fail("the server doesn't have a resource type \"" + pos[i] + "\"");
    } else {
      if (kind == nullptr) return ctx.Usage("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form");
      targets.emplace_back(kind, pos[i]);
    }
  }
  if (targets.empty()) return ctx.Usage("resource(s) were provided, but no name was specified");
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  std::string ns = ctx.args.Get("namespace", "default");
  bool failed = false;
  for (const auto& [k, name] : targets) {
    auto r = api->Call("DELETE", ResourcePath(*k, k->namespaced ? ns : "", name));
    if (!r) return ctx.Fail(r.error().message());
    if (r->ok()) {
      *ctx.out << KindDotGroup(*k) << " \"" << name << "\" deleted\n";
    } else if (!(r->code == 404 && ctx.args.Has("ignore-not-found"))) {
      *ctx.err << r->ErrorLine() << "\n";
      failed = true;
    }
  }
  return failed ? kExitFailure : kExitOk;
}

}  // namespace

int RunCreate(Context& ctx) { return RunFileVerb(ctx, Verb::kCreate); }
int RunApply(Context& ctx) { return RunFileVerb(ctx, Verb::kApply); }
int RunReplace(Context& ctx) { return RunFileVerb(ctx, Verb::kReplace); }

int RunDelete(Context& ctx) {
  if (ctx.args.Has("filename")) return RunFileVerb(ctx, Verb::kDelete);
  if (ctx.args.positionals.empty()) return ctx.Usage("must specify -f FILE or KIND NAME");
  return RunDeleteByName(ctx);
}

}  // namespace tw::cli
