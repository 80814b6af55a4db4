#include "agent/agent.h"

#include <algorithm>

#include "base/log.h"
#include "model/kinds.h"
#include "net/cidr.h"
#include "node/names.h"
#include "policy/compile.h"

namespace tw::agent {

namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

std::string StoreKindOf(std::string_view api_version, std::string_view kind) {
  const model::KindInfo* info = model::FindKind(api_version, kind);
  return info ? info->StoreKind() : std::string(api_version) + "/" + std::string(kind);
}

const json::object* ObjAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::string StrAt(const json::object* o, std::string_view key) {
  if (!o) return "";
  const json::value* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

std::string Annotation(const json::object& obj, std::string_view key) {
  const json::object* meta = ObjAt(obj, "metadata");
  return StrAt(meta ? ObjAt(*meta, "annotations") : nullptr, key);
}

std::string PodIp(const json::object& pod) { return StrAt(ObjAt(pod, "status"), "podIP"); }

bool BeingDeleted(const json::object& obj) {
  const json::object* meta = ObjAt(obj, "metadata");
  return meta && meta->contains("deletionTimestamp");
}

selector::Labels LabelsOf(const json::object& obj) {
  selector::Labels out;
  const json::object* meta = ObjAt(obj, "metadata");
  if (const json::object* labels = meta ? ObjAt(*meta, "labels") : nullptr)
    for (const auto& [k, v] : *labels)
      if (v.is_string()) out[std::string(k)] = std::string(v.get_string());
  return out;
}

Result<json::object> ParseObject(const store::Record& record) {
  boost::system::error_code ec;
  json::value v = json::parse(record.value, ec);
  if (ec || !v.is_object())
    return Status::InvalidArgument(record.key.kind + " " + record.key.ns + "/" + record.key.name +
                                   ": stored value is not a JSON object");
  return std::move(v.get_object());
}

}  // namespace

Agent::Agent(store::Datastore& store, Sandboxes& sandboxes, nft::Dataplane& dataplane, Clock& clock,
             AgentOptions options)
    : store_(store),
      sandboxes_(sandboxes),
      dataplane_(dataplane),
      clock_(clock),
      options_(std::move(options)),
      pod_kind_(StoreKindOf("v1", "Pod")),
      ns_kind_(StoreKindOf("v1", "Namespace")),
      tier_kind_(StoreKindOf("projectcalico.org/v3", "Tier")),
      pool_kind_(StoreKindOf("projectcalico.org/v3", "IPPool")),
      gns_kind_(StoreKindOf("projectcalico.org/v3", "GlobalNetworkSet")),
      netset_kind_(StoreKindOf("projectcalico.org/v3", "NetworkSet")) {
  for (const char* kind : {"GlobalNetworkPolicy", "NetworkPolicy", "StagedGlobalNetworkPolicy",
                           "StagedNetworkPolicy", "StagedKubernetesNetworkPolicy"})
    if (model::FindKind("projectcalico.org/v3", kind)) policy_kinds_.insert(StoreKindOf("projectcalico.org/v3", kind));
  policy_kinds_.insert(StoreKindOf("networking.k8s.io/v1", "NetworkPolicy"));
}

Agent::~Agent() { Stop(); }

std::shared_ptr<const policy::Program> Agent::program() const {
  std::lock_guard lock(mu_);
  return program_;
}

AgentStats Agent::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status Agent::OpenWatches(int64_t revision) {
  watches_.clear();
  // The network sets first: Step blocks on watches_[0], so a feed update
  // wakes the agent at once; the others are polled.
  std::vector<std::string> kinds = {gns_kind_, pod_kind_, ns_kind_, tier_kind_, pool_kind_, netset_kind_};
  kinds.insert(kinds.end(), policy_kinds_.begin(), policy_kinds_.end());
  for (const std::string& kind : kinds) {
    TW_ASSIGN_OR_RETURN(auto watch, store_.WatchFrom({kind, std::nullopt}, revision));
    watches_.push_back(std::move(watch));
  }
  return Status::Ok();
}

Status Agent::Load() {
  pods_.clear();
  namespaces_.clear();
  tiers_.clear();
  policies_.clear();
  global_sets_.clear();
  netsets_.clear();
  pools_.clear();
  // One revision for every list, so the watches continue exactly there.
  int64_t revision = store_.CurrentRevision();
  std::vector<std::string> kinds = {ns_kind_, pool_kind_, tier_kind_, gns_kind_, netset_kind_, pod_kind_};
  kinds.insert(kinds.end(), policy_kinds_.begin(), policy_kinds_.end());
  for (const std::string& kind : kinds) {
    TW_ASSIGN_OR_RETURN(store::ListResult list, store_.List({kind, std::nullopt}));
    revision = std::max(revision, list.revision);
    for (const store::Record& r : list.records) PutObject(r);
  }
  TW_RETURN_IF_ERROR(OpenWatches(revision));
  RebuildIpam();

  // Addresses of pods provisioned by an earlier run come back first, so
  // that new pods cannot take them.
  std::map<std::string, std::string> owned;  // iface -> netns of every pod's sandbox
  for (auto& [key, pod] : pods_) {
    std::string netns = Annotation(pod.obj, kNetnsAnnotation);
    std::string iface = Annotation(pod.obj, kIfaceAnnotation);
    if (!netns.empty() && !iface.empty()) owned[iface] = netns;
  }
  // Sandboxes nobody owns any more (the pod was deleted while we were down).
  if (auto boxes = sandboxes_.List(); boxes.ok()) {
    for (const auto& [iface, netns] : *boxes) {
      auto it = owned.find(iface);
      if (it != owned.end() && it->second == netns) continue;
      TW_LOG_INFO("agent: removing sandbox {} ({}): no pod owns it", netns, iface);
      if (Status st = sandboxes_.Delete(netns, iface); !st.ok())
        TW_LOG_WARN("agent: removing sandbox {}: {}", netns, st.message());
    }
  } else {
    TW_LOG_WARN("agent: listing sandboxes: {}", boxes.error().message());
  }
  // Pods whose sandbox went missing (node rebooted, namespace deleted by
  // hand) get it again, with the same address.
  for (auto& [key, pod] : pods_) {
    if (pod.want_sandbox || BeingDeleted(pod.obj)) continue;
    auto exists = sandboxes_.Exists(Annotation(pod.obj, kNetnsAnnotation), Annotation(pod.obj, kIfaceAnnotation));
    if (!exists.ok() || !*exists) pod.want_sandbox = true;
  }
  ProvisionDuePods();
  dirty_ = true;
  return CompileAndApply();
}

void Agent::RebuildIpam() {
  std::string pool = options_.default_pool;
  if (!pools_.empty()) pool = pools_.begin()->second;
  if (ipam_ && pool == ipam_pool_) return;
  auto cidr = net::Cidr::Parse(pool);
  if (!cidr.ok()) {
    TW_LOG_ERROR("agent: IP pool {}: {}", pool, cidr.error().message());
    return;
  }
  ipam_.emplace(*cidr);
  ipam_pool_ = pool;
  TW_LOG_INFO("agent: pod addresses from {}", pool);
  // Pods keep their addresses; those inside the pool are marked in use.
  for (auto& [key, pod] : pods_) {
    auto ip = net::IpAddr::Parse(PodIp(pod.obj));
    if (!ip.ok() || Annotation(pod.obj, kNetnsAnnotation).empty()) continue;
    if (!ipam_->pool().Contains(*ip)) continue;
    if (Status st = ipam_->Reserve(*ip); !st.ok()) {
      // Two pods claim one address (edited by hand): the later gets a new one.
      TW_LOG_WARN("agent: pod {}/{}: {}; it gets a new address", key.first, key.second, st.message());
      pod.want_sandbox = true;
    }
  }
}

void Agent::PutObject(const store::Record& record) {
  const store::Key& key = record.key;
  auto parsed = ParseObject(record);
  if (!parsed.ok()) {
    TW_LOG_WARN("agent: {}", parsed.error().message());
    return;
  }
  json::object& obj = *parsed;
  if (key.kind == pod_kind_) {
    PodState& pod = pods_[{key.ns, key.name}];
    pod.obj = std::move(obj);
    pod.mod_revision = record.mod_revision;
    bool has_sandbox = !Annotation(pod.obj, kNetnsAnnotation).empty() && !PodIp(pod.obj).empty();
    if (!has_sandbox && !BeingDeleted(pod.obj) && !pod.want_sandbox) {
      pod.want_sandbox = true;
      pod.retry_at = {};
    }
  } else if (key.kind == ns_kind_) {
    namespaces_[key.name] = LabelsOf(obj);
  } else if (key.kind == tier_kind_) {
    auto tier = policy::TierFromObject(obj);
    if (tier.ok()) tiers_[key.name] = std::move(*tier);
    else TW_LOG_WARN("agent: left out: {}", tier.error().message());
  } else if (key.kind == pool_kind_) {
    const json::object* spec = ObjAt(obj, "spec");
    std::string cidr = StrAt(spec, "cidr");
    const json::value* disabled = spec ? spec->if_contains("disabled") : nullptr;
    pools_.erase(key.name);
    if (!(disabled && disabled->is_bool() && disabled->get_bool()) && cidr.find(':') == std::string::npos &&
        !cidr.empty())
      pools_[key.name] = cidr;
  } else if (key.kind == gns_kind_) {
    auto set = policy::NetSetFromObject(obj, {});
    if (set.ok()) global_sets_[key.name] = std::move(*set);
    else TW_LOG_WARN("agent: left out: {}", set.error().message());
  } else if (key.kind == netset_kind_) {
    netsets_[{key.ns, key.name}] = std::move(obj);
  } else if (policy_kinds_.count(key.kind)) {
    auto policy = policy::PolicyFromObject(obj);
    if (policy.ok()) {
      policies_[key] = std::move(*policy);
    } else {
      policies_.erase(key);
      TW_LOG_WARN("agent: left out: {}", policy.error().message());
    }
  }
}

void Agent::DropObject(const store::Record& record) {
  const store::Key& key = record.key;
  if (key.kind == pod_kind_) {
    auto it = pods_.find({key.ns, key.name});
    if (it == pods_.end()) return;
    RemoveSandbox(it->second.obj);
    pods_.erase(it);
  } else if (key.kind == ns_kind_) {
    namespaces_.erase(key.name);
  } else if (key.kind == tier_kind_) {
    tiers_.erase(key.name);
  } else if (key.kind == pool_kind_) {
    pools_.erase(key.name);
  } else if (key.kind == gns_kind_) {
    global_sets_.erase(key.name);
  } else if (key.kind == netset_kind_) {
    netsets_.erase({key.ns, key.name});
  } else if (policy_kinds_.count(key.kind)) {
    policies_.erase(key);
  }
}

void Agent::RemoveSandbox(const json::object& pod) {
  std::string netns = Annotation(pod, kNetnsAnnotation);
  std::string iface = Annotation(pod, kIfaceAnnotation);
  if (netns.empty() || iface.empty()) return;
  if (Status st = sandboxes_.Delete(netns, iface); !st.ok()) {
    TW_LOG_WARN("agent: removing sandbox {}: {}", netns, st.message());
  } else {
    std::lock_guard lock(mu_);
    ++stats_.sandboxes_deleted;
  }
  if (auto ip = net::IpAddr::Parse(PodIp(pod)); ip.ok() && ipam_ && ipam_->IsAllocated(*ip)) (void)ipam_->Release(*ip);
}

void Agent::HandleEvent(const store::WatchEvent& event) {
  // Every followed kind feeds the program (a pod's own status write brings
  // its address), so any event makes the next CompileAndApply compile.
  dirty_ = true;
  if (event.type == store::EventType::kDeleted) {
    DropObject(event.record);
  } else {
    PutObject(event.record);
    if (event.record.key.kind == pool_kind_) RebuildIpam();
  }
}

void Agent::ProvisionDuePods() {
  auto now = clock_.Now();
  for (auto& [key, pod] : pods_) {
    if (!pod.want_sandbox || pod.retry_at > now) continue;
    if (BeingDeleted(pod.obj)) {
      pod.want_sandbox = false;
      continue;
    }
    if (Status st = ProvisionPod(key, pod); !st.ok()) {
      TW_LOG_WARN("agent: pod {}/{}: {} (retrying in {} ms)", key.first, key.second, st.message(),
                  options_.retry.count());
      pod.retry_at = now + options_.retry;
    }
  }
}

Status Agent::ProvisionPod(const NsName& key, PodState& pod) {
  const auto& [ns, name] = key;
  TW_ASSIGN_OR_RETURN(std::string netns, node::SandboxNetnsName(ns, name));
  TW_ASSIGN_OR_RETURN(std::string iface, node::HostIfaceName(ns, name));
  if (!ipam_) return Status::Unavailable("no usable IP pool");
  // Keep the address the pod already has (restart), else take the lowest free.
  std::optional<net::IpAddr> ip;
  if (auto old = net::IpAddr::Parse(PodIp(pod.obj)); old.ok() && Annotation(pod.obj, kNetnsAnnotation) == netns &&
                                                       ipam_->pool().Contains(*old)) {
    if (ipam_->IsAllocated(*old) || ipam_->Reserve(*old).ok()) ip = *old;
  }
  if (!ip) {
    auto fresh = ipam_->Allocate();
    if (!fresh.ok()) {
      (void)WritePodStatus(key, pod, "", "", "", fresh.error());
      return fresh.error();
    }
    ip = *fresh;
  }
  Status made = Status::Ok();
  TW_ASSIGN_OR_RETURN(bool exists, sandboxes_.Exists(netns, iface));
  if (!exists) {
    // A half-made sandbox of ours (crash mid-way) is cleared first; a
    // namespace of that name that we never recorded is someone else's (e.g.
    // another threatwalld's pod of the same name) and is left alone:
    // Create then fails with AlreadyExists and the pod stays Pending.
    if (Annotation(pod.obj, kNetnsAnnotation) == netns) (void)sandboxes_.Delete(netns, iface);
    made = sandboxes_.Create(netns, iface, *ip, ns + "/" + name);
    if (made.ok()) {
      std::lock_guard lock(mu_);
      ++stats_.sandboxes_created;
    }
  }
  if (!made.ok()) {
    (void)ipam_->Release(*ip);
    (void)WritePodStatus(key, pod, "", "", "", made);
    return made;
  }
  TW_RETURN_IF_ERROR(WritePodStatus(key, pod, netns, iface, ip->ToString(), Status::Ok()));
  pod.want_sandbox = false;
  TW_LOG_INFO("agent: pod {}/{} running: {} in netns {} (node side {})", ns, name, ip->ToString(), netns, iface);
  return Status::Ok();
}

Status Agent::WritePodStatus(const NsName& key, PodState& pod, const std::string& netns, const std::string& iface,
                             const std::string& ip, const Status& failure) {
  store::Key skey{pod_kind_, key.first, key.second};
  for (int attempt = 0; attempt < 5; ++attempt) {
    json::object obj = pod.obj;
    json::object& meta = obj["metadata"].is_object() ? obj["metadata"].get_object()
                                                      : obj["metadata"].emplace_object();
    json::object& status = obj["status"].is_object() ? obj["status"].get_object() : obj["status"].emplace_object();
    std::string now = FormatRfc3339(clock_.Now());
    json::object ready{{"type", "Ready"}, {"lastTransitionTime", now}};
    if (failure.ok()) {
      json::object& ann = meta["annotations"].is_object() ? meta["annotations"].get_object()
                                                           : meta["annotations"].emplace_object();
      ann[kNetnsAnnotation] = netns;
      ann[kIfaceAnnotation] = iface;
      status["phase"] = "Running";
      status["podIP"] = ip;
      status["podIPs"] = json::array{json::object{{"ip", ip}}};
      if (!options_.host_ip.empty()) status["hostIP"] = options_.host_ip;
      if (!status.contains("startTime")) status["startTime"] = now;
      // No container runtime: the pod is its network namespace; commands run
      // there with `threatwall exec`.  Containers are reported running so
      // that READY reads as kubectl users expect.
      json::array containers;
      const json::object* spec = ObjAt(obj, "spec");
      if (const json::value* list = spec ? spec->if_contains("containers") : nullptr; list && list->is_array())
        for (const json::value& c : list->get_array()) {
          if (!c.is_object()) continue;
          containers.push_back(json::object{
              {"name", StrAt(&c.get_object(), "name")},
              {"image", StrAt(&c.get_object(), "image")},
              {"ready", true},
              {"started", true},
              {"restartCount", 0},
              {"state", json::object{{"running", json::object{{"startedAt", status["startTime"]}}}}}});
        }
      status["containerStatuses"] = std::move(containers);
      ready["status"] = "True";
    } else {
      status["phase"] = "Pending";
      ready["status"] = "False";
      ready["reason"] = "SandboxFailed";
      ready["message"] = failure.message();
    }
    // The transition time moves only when the condition changes, so that a
    // pod whose state did not change (restart) is not written again.
    if (const json::value* conds = status.if_contains("conditions"); conds && conds->is_array())
      for (const json::value& c : conds->get_array())
        if (c.is_object() && StrAt(&c.get_object(), "type") == "Ready" &&
            StrAt(&c.get_object(), "status") == StrAt(&ready, "status") &&
            StrAt(&c.get_object(), "message") == StrAt(&ready, "message"))
          ready["lastTransitionTime"] = StrAt(&c.get_object(), "lastTransitionTime");
    status["conditions"] = json::array{ready};
    if (const json::value* old = pod.obj.if_contains("status"); old && *old == json::value(status)) return Status::Ok();
    auto written = store_.Update(skey, json::serialize(obj), pod.mod_revision);
    if (written.ok()) {
      pod.obj = std::move(obj);
      pod.mod_revision = written->mod_revision;
      return Status::Ok();
    }
    if (!written.error().IsConflict()) return written.error();
    auto fresh = store_.Get(skey);
    if (!fresh.ok()) return fresh.error();
    auto parsed = ParseObject(*fresh);
    if (!parsed.ok()) return parsed.error();
    pod.obj = std::move(*parsed);
    pod.mod_revision = fresh->mod_revision;
  }
  return Status::Conflict("pod " + key.first + "/" + key.second + ": status write kept conflicting");
}

policy::Inputs Agent::BuildInputs() const {
  policy::Inputs in;
  for (const auto& [name, tier] : tiers_) in.tiers.push_back(tier);
  for (const auto& [key, p] : policies_) in.policies.push_back(p);
  static const selector::Labels kNoLabels;
  auto ns_labels = [&](const std::string& ns) -> const selector::Labels& {
    auto it = namespaces_.find(ns);
    return it == namespaces_.end() ? kNoLabels : it->second;
  };
  for (const auto& [key, pod] : pods_) {
    auto ep = policy::EndpointFromPod(pod.obj, ns_labels(key.first));
    if (ep.ok()) in.endpoints.push_back(std::move(*ep));
    else TW_LOG_WARN("agent: left out: {}", ep.error().message());
  }
  for (const auto& [name, set] : global_sets_) in.netsets.push_back(set);
  for (const auto& [key, obj] : netsets_) {
    auto set = policy::NetSetFromObject(obj, ns_labels(key.first));
    if (set.ok()) in.netsets.push_back(std::move(*set));
    else TW_LOG_WARN("agent: left out: {}", set.error().message());
  }
  return in;
}

Status Agent::CompileAndApply() {
  if (!dirty_ || clock_.Now() < apply_retry_at_) return Status::Ok();
  auto t0 = std::chrono::steady_clock::now();
  policy::Inputs inputs = BuildInputs();
  auto program = std::make_shared<const policy::Program>(policy::Compile(inputs));
  auto t1 = std::chrono::steady_clock::now();
  Status st = dataplane_.Apply(program);
  auto t2 = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  ++stats_.compiles;
  stats_.last_compile = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0);
  stats_.last_apply = std::chrono::duration_cast<std::chrono::microseconds>(t2 - t1);
  if (!st.ok()) {
    ++stats_.apply_failures;
    apply_retry_at_ = clock_.Now() + options_.retry;
    TW_LOG_ERROR("agent: dataplane: {} (full resync in {} ms)", st.message(), options_.retry.count());
    return st;
  }
  ++stats_.applies;
  program_ = program;
  dirty_ = false;
  TW_LOG_DEBUG("agent: applied: {} endpoints, {} policies, {} sets (compile {} us, apply {} us)",
               program_->endpoints.size(), program_->policies.size(), program_->sets.size(),
               stats_.last_compile.count(), stats_.last_apply.count());
  lock.unlock();
  if (options_.on_applied) {
    options_.on_applied(AppliedSnapshot{std::move(program), PodInfos(inputs), std::move(inputs.netsets)});
  }
  return Status::Ok();
}

std::vector<flowlog::PodInfo> Agent::PodInfos(const policy::Inputs& inputs) const {
  std::vector<flowlog::PodInfo> out;
  for (const policy::Endpoint& ep : inputs.endpoints) {
    if (ep.ips.empty()) continue;
    flowlog::PodInfo info{ep.ns, ep.name, "", ep.iface, ep.ips, {}};
    auto it = pods_.find({ep.ns, ep.name});
    if (it != pods_.end()) {
      const json::object* meta = it->second.obj.if_contains("metadata") ? it->second.obj.at("metadata").if_object()
                                                                          : nullptr;
      if (meta) {
        if (const json::value* g = meta->if_contains("generateName"); g && g->is_string())
          info.generate_name = std::string(g->as_string());
        if (const json::value* l = meta->if_contains("labels"); l && l->is_object())
          for (const auto& [k, v] : l->as_object())
            if (v.is_string()) info.labels.push_back(std::string(k) + "=" + std::string(v.as_string()));
        std::sort(info.labels.begin(), info.labels.end());
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

Status Agent::Step(milliseconds wait) {
  if (watches_.empty()) return Status::Unavailable("agent: Load() first");
  bool any = false;  // an event arrived (HandleEvent marked the program dirty)
  auto deadline = std::chrono::steady_clock::now() + wait;
  auto drain = [&]() -> Status {
    bool got = true;
    while (got) {
      got = false;
      for (auto& w : watches_) {
        while (auto ev = w->Next(milliseconds(0))) {
          HandleEvent(*ev);
          any = true;
          got = true;
        }
        if (!w->status().ok()) {
          watch_failed_ = true;
          return w->status();
        }
      }
    }
    return Status::Ok();
  };
  TW_RETURN_IF_ERROR(drain());
  while (!any && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (auto ev = watches_[0]->Next(std::min(left, milliseconds(25)))) {
      HandleEvent(*ev);
      any = true;
    }
    TW_RETURN_IF_ERROR(drain());
  }
  if (any && options_.settle.count() > 0) {
    // Let a burst (kubectl apply -f of many objects) arrive before compiling.
    auto until = std::chrono::steady_clock::now() + options_.settle;
    while (std::chrono::steady_clock::now() < until) {
      if (auto ev = watches_[0]->Next(milliseconds(5))) HandleEvent(*ev);
      TW_RETURN_IF_ERROR(drain());
    }
  }
  ProvisionDuePods();
  // Our own pod status writes come back as events; take them now so the
  // program has the new addresses.
  TW_RETURN_IF_ERROR(drain());
  return CompileAndApply();
}

Status Agent::Start() {
  if (Status st = Load(); !st.ok()) {
    if (watches_.empty()) return st;
    TW_LOG_ERROR("agent: first apply failed: {}; retrying", st.message());
  }
  stop_ = false;
  loop_ = std::thread([this] { RunLoop(); });
  return Status::Ok();
}

void Agent::RunLoop() {
  while (!stop_) {
    watch_failed_ = false;
    Status st = Step(milliseconds(200));
    // Dataplane errors are logged where they happen and retried by
    // CompileAndApply; a failed watch would leave the agent deaf, so it
    // lists everything again (after a pause, in case the store is down).
    if (!st.ok() && watch_failed_) {
      TW_LOG_WARN("agent: watch failed ({}); listing again", st.message());
      if (!st.IsGone()) std::this_thread::sleep_for(std::chrono::seconds(1));
      if (Status l = Load(); !l.ok()) TW_LOG_ERROR("agent: {}", l.message());
    }
  }
}

void Agent::Stop() {
  // Step never blocks longer than 25 ms at a time, so the loop sees stop_
  // soon; the watches are closed with the agent.
  stop_ = true;
  if (loop_.joinable()) loop_.join();
}

}  // namespace tw::agent
