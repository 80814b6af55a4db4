// exec: runs a command in a pod's network namespace, like `kubectl exec`
// (a pod here is a network sandbox: the command runs on this machine with
// the pod's interfaces, addresses and routes, and the caller's filesystem).
#include <unistd.h>

#include <ostream>

#include "base/strings.h"
#include "cli/commands.h"
#include "model/kinds.h"
#include "node/names.h"
#include "node/netns.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

// obj.a.b as a string, "" when absent or not a string.
std::string StringAt(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* cur = &v;
  for (std::string_view k : keys) {
    const json::object* o = cur->if_object();
    cur = o != nullptr ? o->if_contains(k) : nullptr;
    if (cur == nullptr) return "";
  }
  return cur->is_string() ? std::string(cur->get_string()) : "";
}

}  // namespace

Result<std::string> ExecNetnsForPod(const json::value& pod, std::string_view ns, std::string_view name) {
  std::string who = "pod " + std::string(ns) + "/" + std::string(name);
  if (!pod.is_object()) return Status::InvalidArgument(who + ": the server's answer is not an object");
  std::string phase = StringAt(pod, {"status", "phase"});
  if (phase != "Running") {
    return Status::InvalidArgument("cannot exec into " + who + ": it is not running (" +
                                   (phase.empty() ? std::string("no status.phase yet") : "phase " + phase) + ")");
  }
  std::string annotated = StringAt(pod, {"metadata", "annotations", kExecNetnsAnnotation});
  if (!annotated.empty()) {
    if (Status st = node::CheckNetnsName(annotated); !st.ok()) {
      return Status::InvalidArgument(who + ": annotation " + std::string(kExecNetnsAnnotation) + ": " + st.message());
    }
    return annotated;
  }
  auto sandbox = node::SandboxNetnsName(ns, name);
  if (!sandbox) return Status::InvalidArgument(who + ": " + sandbox.error().message());
  return *sandbox;
}

int ExecInNetns(const Context& ctx, const std::string& netns, const std::vector<std::string>& argv) {
  if (!netns.empty()) {
    auto exists = node::NetnsExists(netns);
    if (!exists) return ctx.Fail(exists.error().message());
    if (!*exists) {
      return ctx.Fail("network namespace " + Quote(netns) + " does not exist (is the pod's sandbox set up?)");
    }
  }
  // The command writes straight to our stdout/stderr: what we printed so
  // far must come first.
  ctx.out->flush();
  ctx.err->flush();
  node::ExecOptions options;
  options.capture_output = false;
  auto r = node::Exec(netns, argv, options);
  if (!r) {
    ctx.Fail(r.error().message());
    // A shell's codes: 127 command not found, 126 found but not runnable.
    return r.error().IsNotFound() ? 127 : 126;
  }
  return r->exit_code;
}

int RunExec(Context& ctx) {
  const std::vector<std::string>& pos = ctx.args.positionals;
  if (pos.empty()) return ctx.Usage("expected 'exec POD -- COMMAND [ARGS...]'");
  if (pos.size() == 1) return ctx.Usage("you must specify at least one command for the container");
  std::string ns = ctx.args.Get("namespace", "default");
  const std::string& name = pos[0];
  std::vector<std::string> argv(pos.begin() + 1, pos.end());

  const model::KindInfo* pod_kind = model::FindKind("v1", "Pod");
  if (pod_kind == nullptr) return ctx.Fail("this build has no Pod kind");
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  // Escaped: a name with '/' or '?' is looked up (and not found) as given.
  auto r = api->Call("GET", ResourcePath(*pod_kind, EscapeQuery(ns), EscapeQuery(name)));
  if (!r) return ctx.Fail(r.error().message());
  if (!r->ok()) {
    *ctx.err << r->ErrorLine() << "\n";
    return kExitFailure;
  }
  auto netns = ExecNetnsForPod(r->body, ns, name);
  if (!netns) return ctx.Fail(netns.error().message());
  if (::geteuid() != 0) {
    return ctx.Fail("exec: must run as root to enter pod " + ns + "/" + name + "'s network namespace " +
                    Quote(*netns));
  }
  return ExecInNetns(ctx, *netns, argv);
}

}  // namespace tw::cli
