// get / describe.
#include <algorithm>
#include <ostream>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "model/codec.h"
#include "model/kinds.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

// One kind with the names asked for (none = list).
struct KindQuery {
  const model::KindInfo* kind = nullptr;
  std::vector<std::string> names;
};

// Parses "KIND[,KIND] [NAME...]" or "KIND/NAME [KIND/NAME...]".
Result<std::vector<KindQuery>> ParseKindArgs(const std::vector<std::string>& pos) {
  auto resolve = [](std::string_view alias) -> Result<const model::KindInfo*> {
    const model::KindInfo* k = model::ResolveKindAlias(alias);
    if (k == nullptr) {
      return Status::NotFound("the server doesn't have a resource type \"" + std::string(alias) + "\"");
    }
    return k;
  };
  std::vector<KindQuery> out;
  if (pos.empty()) return Status::InvalidArgument("you must specify the type of resource to get");
  if (pos[0].find('/') != std::string::npos) {
    for (const auto& p : pos) {
      size_t slash = p.find('/');
      if (slash == std::string::npos) {
        return Status::InvalidArgument("there is no need to specify a resource type as a separate argument when "
                                       "passing arguments in resource/name form");
      }
      TW_ASSIGN_OR_RETURN(const model::KindInfo* k, resolve(p.substr(0, slash)));
      std::string name = p.substr(slash + 1);
      if (name.empty()) return Status::InvalidArgument("missing name in " + Quote(p));
      auto it = std::find_if(out.begin(), out.end(), [&](const KindQuery& q) { return q.kind == k; });
      if (it == out.end()) {
        out.push_back({k, {name}});
      } else {
        it->names.push_back(name);
      }
    }
    return out;
  }
  for (auto alias : Split(pos[0], ',')) {
    if (alias.empty()) continue;
    TW_ASSIGN_OR_RETURN(const model::KindInfo* k, resolve(alias));
    out.push_back({k, {}});
  }
  if (out.empty()) return Status::InvalidArgument("you must specify the type of resource to get");
  std::vector<std::string> names(pos.begin() + 1, pos.end());
  if (!names.empty() && out.size() > 1) {
    return Status::InvalidArgument("names cannot be combined with several kinds; use KIND/NAME");
  }
  out[0].names = names;
  return out;
}

// Fills apiVersion/kind of list items (Kubernetes omits them in some lists).
json::object WithTypeMeta(json::object o, const model::KindInfo& kind) {
  if (!o.contains("apiVersion")) o["apiVersion"] = kind.ApiVersion();
  if (!o.contains("kind")) o["kind"] = std::string(kind.kind);
  return o;
}

std::string NameOf(const json::object& o) {
  const json::value* md = o.if_contains("metadata");
  if (md == nullptr || !md->is_object()) return "";
  const json::value* n = md->as_object().if_contains("name");
  return n != nullptr && n->is_string() ? std::string(n->as_string()) : "";
}

std::string Query(const Context& ctx, bool watch) {
  std::vector<std::string> params;
  if (ctx.args.Has("selector")) params.push_back("labelSelector=" + EscapeQuery(ctx.args.Get("selector")));
  if (watch) params.push_back("watch=1");
  return params.empty() ? "" : "?" + Join(params, "&");
}

int RunWatch(Context& ctx, const std::vector<KindQuery>& queries, const std::string& output, bool all_ns,
             const std::string& ns) {
  if (queries.size() != 1 || queries[0].names.size() > 1) {
    return ctx.Usage("watch is only supported on one kind and at most one name");
  }
  if (!ctx.args.Has("request-timeout")) ctx.timeout = std::chrono::milliseconds(0);
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  const model::KindInfo& kind = *queries[0].kind;
  std::string path = ResourcePath(kind, all_ns ? "" : ns) + Query(ctx, true);
  if (!queries[0].names.empty()) path += "&fieldSelector=" + EscapeQuery("metadata.name=" + queries[0].names[0]);
  TableOptions options;
  options.wide = output == "wide";
  options.with_namespace = all_ns && kind.namespaced;
  std::vector<size_t> widths;
  bool header_done = ctx.args.Has("no-headers");
  std::string stream_error;
  auto on_line = [&](std::string_view line) {
    std::error_code ec;
    json::value event = json::parse(line, ec);
    if (ec || !event.is_object()) {
      stream_error = "malformed watch event: " + std::string(line.substr(0, 200));
      return false;
    }
    const json::value* type = event.as_object().if_contains("type");
    const json::value* object = event.as_object().if_contains("object");
    if (type == nullptr || object == nullptr || !object->is_object()) return true;
    if (type->is_string() && type->as_string() == "ERROR") {
      const json::value* m = object->as_object().if_contains("message");
      stream_error = m != nullptr && m->is_string() ? std::string(m->as_string()) : json::serialize(*object);
      return false;
    }
    json::object o = WithTypeMeta(object->as_object(), kind);
    if (output == "yaml") {
      *ctx.out << model::ToYaml(o) << "---\n";
    } else if (output == "json") {
      *ctx.out << model::ToPrettyJson(o) << "\n";
    } else if (output == "name") {
      *ctx.out << ObjectRef(kind, NameOf(o)) << "\n";
    } else {
      TextTable t;
      AppendObjectRows(kind, {o}, options, std::chrono::system_clock::now(), &t);
      // Widths from the header and the first row, then fixed, as a stream
      // cannot be re-aligned.
      if (widths.empty()) {
        for (size_t i = 0; i < t.header.size(); ++i) {
          size_t w = t.header[i].size();
          if (!t.rows.empty() && i < t.rows[0].size()) w = std::max(w, t.rows[0][i].size());
          widths.push_back(w);
        }
      }
      auto emit = [&](const std::vector<std::string>& cells) {
        std::string line_out;
        for (size_t i = 0; i < cells.size(); ++i) {
          line_out += cells[i];
          if (i + 1 < cells.size()) {
            size_t w = i < widths.size() ? widths[i] : cells[i].size();
            line_out += std::string(w > cells[i].size() ? w - cells[i].size() + 3 : 3, ' ');
          }
        }
        *ctx.out << line_out << "\n";
      };
      if (!header_done) {
        emit(t.header);
        header_done = true;
      }
      for (const auto& row : t.rows) emit(row);
    }
    ctx.out->flush();
    return true;
  };
  auto r = api->Watch(path, on_line);
  if (!r) return ctx.Fail(r.error().message());
  if (!r->ok()) {
    *ctx.err << r->ErrorLine() << "\n";
    return kExitFailure;
  }
  if (!stream_error.empty()) return ctx.Fail(stream_error);
  return kExitOk;
}

}  // namespace

int RunGet(Context& ctx) {
  auto queries = ParseKindArgs(ctx.args.positionals);
  if (!queries) {
    if (queries.error().IsNotFound()) return ctx.Fail(queries.error().message());
    return ctx.Usage(queries.error().message());
  }
  std::string output = ctx.args.Get("output");
  std::string jsonpath_template;
  if (output.rfind("jsonpath=", 0) == 0) {
    jsonpath_template = output.substr(9);
    output = "jsonpath";
    if (auto t = RenderJsonPathTemplate(jsonpath_template, json::object()); !t.ok())
      return ctx.Usage("-o jsonpath: " + t.error().message());
  }
  if (output != "" && output != "wide" && output != "yaml" && output != "json" && output != "name" &&
      output != "jsonpath") {
    return ctx.Usage("unknown output format " + Quote(output) + " (allowed: yaml, json, wide, name, jsonpath=TEMPLATE)");
  }
  if (output == "jsonpath" && ctx.args.Has("watch")) return ctx.Usage("-o jsonpath cannot be used with --watch");
  bool all_ns = ctx.args.Has("all-namespaces");
  std::string ns = ctx.args.Get("namespace", "default");
  if (ctx.args.Has("watch")) return RunWatch(ctx, *queries, output, all_ns, ns);

  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  bool table = output.empty() || output == "wide";
  bool failed = false;
  bool single_object = queries->size() == 1 && (*queries)[0].names.size() == 1;
  std::vector<json::object> objects;      // yaml/json/name
  std::vector<const model::KindInfo*> object_kinds;
  std::vector<TextTable> tables;
  size_t rows = 0;
  auto now = std::chrono::system_clock::now();

  for (const auto& q : *queries) {
    const model::KindInfo& kind = *q.kind;
    std::string query_ns = all_ns ? "" : ns;
    TableOptions options;
    options.wide = output == "wide";
    options.with_namespace = all_ns && kind.namespaced;
    if (queries->size() > 1) options.name_prefix = KindDotGroup(kind) + "/";
    TextTable t;
    std::vector<std::string> paths;
    if (q.names.empty()) {
      paths.push_back(ResourcePath(kind, query_ns) + Query(ctx, false));
    } else {
      for (const auto& n : q.names) paths.push_back(ResourcePath(kind, all_ns ? ns : query_ns, n));
    }
    for (const auto& path : paths) {
      auto r = api->Call("GET", path, "", "", table ? kTableAccept : "application/json");
      if (!r) return ctx.Fail(r.error().message());
      if (!r->ok()) {
        *ctx.err << r->ErrorLine() << "\n";
        failed = true;
        continue;
      }
      if (!r->body.is_object()) {
        *ctx.err << "threatwall: the server returned a non-object for " << path << "\n";
        failed = true;
        continue;
      }
      const json::object& body = r->body.as_object();
      const json::value* body_kind = body.if_contains("kind");
      bool is_table = body_kind != nullptr && body_kind->is_string() && body_kind->as_string() == "Table";
      const json::value* items = body.if_contains("items");
      std::vector<json::object> got;
      if (!is_table) {
        if (q.names.empty() && items != nullptr && items->is_array()) {
          for (const auto& item : items->as_array()) {
            if (item.is_object()) got.push_back(WithTypeMeta(item.as_object(), kind));
          }
        } else {
          got.push_back(WithTypeMeta(body, kind));
        }
      }
      if (table) {
        size_t before = t.rows.size();
        if (is_table) {
          options.default_namespace = all_ns ? "" : ns;
          Status s = AppendApiTable(r->body, options, &t);
          if (!s.ok()) return ctx.Fail(s.message());
        } else {
          AppendObjectRows(kind, got, options, now, &t);
        }
        rows += t.rows.size() - before;
      } else {
        for (auto& o : got) {
          objects.push_back(std::move(o));
          object_kinds.push_back(&kind);
        }
      }
    }
    if (table && !t.rows.empty()) tables.push_back(std::move(t));
  }

  if (table) {
    for (size_t i = 0; i < tables.size(); ++i) {
      if (i > 0) *ctx.out << "\n";
      if (ctx.args.Has("no-headers")) tables[i].header.clear();
      *ctx.out << RenderTable(tables[i]);
    }
  } else if (output == "name") {
    for (size_t i = 0; i < objects.size(); ++i) *ctx.out << ObjectRef(*object_kinds[i], NameOf(objects[i])) << "\n";
  } else {
    json::value v = single_object && objects.size() == 1 ? json::value(objects[0]) : MakeList(objects);
    if (output == "jsonpath") {
      if (!(single_object && objects.empty())) *ctx.out << *RenderJsonPathTemplate(jsonpath_template, v);
    } else if (!(single_object && objects.empty())) {
      *ctx.out << (output == "yaml" ? model::ToYaml(v) : model::ToPrettyJson(v) + "\n");
    }
  }
  bool empty = table ? rows == 0 : objects.empty();
  if (empty && !failed && (table || output == "name")) {
    bool namespaced = std::any_of(queries->begin(), queries->end(), [](const KindQuery& q) { return q.kind->namespaced; });
    if (namespaced && !all_ns) {
      *ctx.err << "No resources found in " << ns << " namespace.\n";
    } else {
      *ctx.err << "No resources found\n";
    }
  }
  return failed ? kExitFailure : kExitOk;
}

int RunDescribe(Context& ctx) {
  auto queries = ParseKindArgs(ctx.args.positionals);
  if (!queries) {
    if (queries.error().IsNotFound()) return ctx.Fail(queries.error().message());
    return ctx.Usage(queries.error().message());
  }
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  std::string ns = ctx.args.Get("namespace", "default");
  bool failed = false;
  bool first = true;
  for (const auto& q : *queries) {
    std::vector<json::object> objects;
    if (q.names.empty()) {
      auto r = api->Call("GET", ResourcePath(*q.kind, ns));
      if (!r) return ctx.Fail(r.error().message());
      if (!r->ok()) {
        *ctx.err << r->ErrorLine() << "\n";
        failed = true;
        continue;
      }
      const json::value* items = r->body.is_object() ? r->body.as_object().if_contains("items") : nullptr;
      if (items != nullptr && items->is_array()) {
        for (const auto& item : items->as_array()) {
          if (item.is_object()) objects.push_back(WithTypeMeta(item.as_object(), *q.kind));
        }
      }
    }
    for (const auto& name : q.names) {
      auto r = api->Call("GET", ResourcePath(*q.kind, ns, name));
      if (!r) return ctx.Fail(r.error().message());
      if (!r->ok()) {
        *ctx.err << r->ErrorLine() << "\n";
        failed = true;
        continue;
      }
      if (r->body.is_object()) objects.push_back(WithTypeMeta(r->body.as_object(), *q.kind));
    }
    for (const auto& o : objects) {
      if (!first) *ctx.out << "\n\n";
      first = false;
      *ctx.out << Describe(o);
    }
  }
  if (first && !failed) {
    bool namespaced = (*queries)[0].kind->namespaced;
    *ctx.err << (namespaced ? "No resources found in " + ns + " namespace.\n" : std::string("No resources found\n"));
  }
  return failed ? kExitFailure : kExitOk;
}

}  // namespace tw::cli
