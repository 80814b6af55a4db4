#include "cli/commands.h"

#include <cctype>
#include <charconv>
#include <ostream>

#include "base/strings.h"
#include "cli/manifests.h"

namespace tw::cli {

namespace {

const std::vector<FlagSpec> kFileFlags = {
    {"filename", 'f', true, "FILE", "manifest file, or - for stdin (repeatable)"},
    {"namespace", 'n', true, "NS", "namespace for namespaced objects that name none"},
};

}  // namespace

const std::vector<FlagSpec>& GlobalFlags() {
  static const std::vector<FlagSpec> flags = {
      {"server", 's', true, "URL", "API server URL (env THREATWALL_SERVER)"},
      {"token", 0, true, "TOKEN", "bearer token (env THREATWALL_TOKEN)"},
      {"config", 0, true, "FILE", "config file (env THREATWALL_CONFIG, default ~/.config/threatwall/config.yaml)"},
      {"request-timeout", 0, true, "DURATION", "timeout per request, e.g. 30s (0 = none; default 30s)"},
      {"v", 'v', true, "LEVEL", "verbosity: 6 logs every request, 8 also response bodies"},
      {"help", 'h', false, "", "show help"},
  };
  return flags;
}

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"create", "create -f FILE|- [-f ...] [-n NS]", "Create objects from manifests",
       "Sends every document of the manifests as a create (POST).  One line per document:\n"
       "  KIND.GROUP/NAME created  -- or --  FILE: document N: ERROR\n"
       "Exit 1 if any document failed.",
       kFileFlags, RunCreate},
      {"apply", "apply -f FILE|- [-f ...] [-n NS]", "Create or update objects (client-side apply)",
       "Like kubectl apply: creates missing objects (recording the last-applied-configuration\n"
       "annotation), else sends a three-way JSON merge patch.  Prints created/configured/unchanged.",
       kFileFlags, RunApply},
      {"replace", "replace -f FILE|- [-f ...] [-n NS]", "Replace objects with the manifests' content",
       "Sends every document as a full update (PUT), as given (a stale metadata.resourceVersion\n"
       "is refused with a conflict).",
       kFileFlags, RunReplace},
      {"delete", "delete (-f FILE|- [-f ...] | KIND NAME...) [-n NS] [--ignore-not-found]", "Delete objects",
       "Deletes the objects named by the manifests, or KIND NAME... given as arguments.",
       {{"filename", 'f', true, "FILE", "manifest file, or - for stdin (repeatable)"},
        {"namespace", 'n', true, "NS", "namespace"},
        {"ignore-not-found", 0, false, "", "treat 'not found' as success"}},
       RunDelete},
      {"get", "get KIND[,KIND...] [NAME...] [-n NS | -A] [-o yaml|json|wide|name] [-l SELECTOR] [-w]",
       "Show objects",
       "KIND is any alias kubectl/calicoctl accept (plural, singular, short name, kind.group);\n"
       "KIND/NAME also works.  Tables come from the server (meta.k8s.io Table).",
       {{"namespace", 'n', true, "NS", "namespace (default: default)"},
        {"all-namespaces", 'A', false, "", "list across all namespaces"},
        {"output", 'o', true, "FORMAT", "yaml, json, wide, name or jsonpath=TEMPLATE"},
        {"selector", 'l', true, "SELECTOR", "label selector, e.g. app=web,tier!=db"},
        {"watch", 'w', false, "", "after listing, stream changes"},
        {"no-headers", 0, false, "", "omit the table header"}},
       RunGet},
      {"describe", "describe KIND NAME [-n NS]", "Show one object in detail", "",
       {{"namespace", 'n', true, "NS", "namespace (default: default)"}}, RunDescribe},
      {"validate", "validate -f FILE|- [-f ...]", "Validate manifests offline (no server)",
       "Prints KIND/NAME valid per document and exits 0, or FILE: document N: FIELD: REASON\n"
       "per invalid document and exits 1.",
       {{"filename", 'f', true, "FILE", "manifest file, or - for stdin (repeatable)"},
        {"namespace", 'n', true, "NS", "namespace for namespaced objects that name none"}},
       RunValidate},
      {"selector", "selector (test 'EXPR' [KEY=VALUE...] | fmt 'EXPR')", "Evaluate or format a Calico selector",
       "test: prints true or false for the labels given (exit 0); an invalid selector exits 2.\n"
       "fmt:  prints the canonical form.",
       {}, RunSelector},
      {"feeds", "feeds (sync NAME [--force] [--no-wait] | parse [--content C] [--format F] [format flags] FILE|URL)",
       "Pull a feed now, or parse a feed offline and print the set it would become",
       "sync:  asks threatwalld to pull GlobalThreatFeed NAME now (annotation\n"
       "       threatwall.io/sync-request), waits for that pull and prints its result: entries read,\n"
       "       invalid lines with examples, prefixes or domains in force; exit 1 if it failed or the\n"
       "       collapse guard held it back (--force accepts such a result).\n"
       "parse: runs the daemon's parse + normalise + merge on a saved feed body: prints the resulting\n"
       "       set one entry per line (IPv4 output is identical to iprange's) and a summary on stderr\n"
       "       (entries, skipped lines and invalid entries with examples, prefixes kept).",
       {{"content", 0, true, "IPSet|DomainNameSet", "what the feed lists (default IPSet)"},
        {"format", 0, true, "newline|json|csv", "body format (default newline)"},
        {"path", 0, true, "JSONPATH", "json: where the entries are (default $.)"},
        {"field-num", 0, true, "N", "csv: the column, counted from 0"},
        {"field-name", 0, true, "NAME", "csv: the column by header name (needs --header)"},
        {"header", 0, false, "", "csv: the first record is a header"},
        {"column-delimiter", 0, true, "C", "csv: field separator (default ,)"},
        {"comment-delimiter", 0, true, "C", "csv: lines starting with C are skipped"},
        {"disable-record-size-validation", 0, false, "", "csv: allow records of different lengths"},
        {"force", 0, false, "", "sync: accept a result the collapse guard would hold back"},
        {"no-wait", 0, false, "", "sync: return once the request is recorded"},
        {"wait-timeout", 0, true, "DURATION", "sync: how long to wait for the pull (default 2m)"}},
       RunFeedsCommand},
      {"version", "version [--client]", "Print client and server versions", "",
       {{"client", 0, false, "", "client version only"}}, RunVersion},
      {"kubeconfig", "kubeconfig [--insecure-skip-tls-verify]",
       "Print a kubeconfig for kubectl (current server and token)",
       "  threatwall kubeconfig > tw.kubeconfig; kubectl --kubeconfig tw.kubeconfig get gtf\n"
       "kubectl sends the token only to an https:// server.  For the local daemon (the server\n"
       "is the one in DATA_DIR/address) the kubeconfig points at https:// on the same port and\n"
       "carries DATA_DIR/tls.crt as certificate-authority-data.",
       {{"certificate-authority", 0, true, "FILE", "PEM CA of an https server (switches http:// to https://)"},
        {"insecure-skip-tls-verify", 0, false, "", "for an https server: do not verify its certificate"}},
       RunKubeconfig},
  };
  return commands;
}

const Command* FindCommandByName(std::string_view name) {
  for (const auto& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<std::chrono::milliseconds> ParseTimeout(std::string_view text) {
  std::string_view t = TrimSpace(text);
  if (t.empty()) return Status::InvalidArgument("--request-timeout: empty duration");
  double total_ms = 0;
  std::string_view rest = t;
  bool bare = true;
  for (char c : t) bare = bare && (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.');
  if (bare) {
    double v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size()) {
      return Status::InvalidArgument("--request-timeout: invalid duration " + Quote(text));
    }
    return std::chrono::milliseconds(static_cast<long long>(v * 1000));
  }
  while (!rest.empty()) {
    double v = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (ec != std::errc()) return Status::InvalidArgument("--request-timeout: invalid duration " + Quote(text));
    rest.remove_prefix(p - rest.data());
    double unit = 0;
    if (rest.starts_with("ms")) {
      unit = 1, rest.remove_prefix(2);
    } else if (rest.starts_with("s")) {
      unit = 1000, rest.remove_prefix(1);
    } else if (rest.starts_with("m")) {
      unit = 60000, rest.remove_prefix(1);
    } else if (rest.starts_with("h")) {
      unit = 3600000, rest.remove_prefix(1);
    } else {
      return Status::InvalidArgument("--request-timeout: invalid duration " + Quote(text) +
                                     " (use a unit: ms, s, m, h)");
    }
    total_ms += v * unit;
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

Result<ClientConfig> Context::Config() const { return ResolveConfig(config_inputs); }

Result<ApiClient> Context::Client() const {
  TW_ASSIGN_OR_RETURN(ClientConfig config, Config());
  TW_ASSIGN_OR_RETURN(ServerUrl url, ParseServerUrl(config.server));
  if (verbosity >= 6) {
    *err << "server " << url.text << " (from " << config.server_source << "), token from "
         << (config.token_source.empty() ? "nowhere" : config.token_source) << "\n";
  }
  return ApiClient(HttpClient(std::move(url), timeout), config.token, verbosity);
}

int Context::Fail(std::string_view message, int code) const {
  *err << "threatwall: " << message << "\n";
  return code;
}

int Context::Usage(std::string_view message) const {
  *err << "threatwall " << command << ": " << message << "\nSee 'threatwall " << command << " --help'.\n";
  return kExitUsage;
}

int Context::ReadFileArgs(std::vector<model::ManifestDocument>* docs, bool* failed) const {
  std::vector<std::string> files = args.GetAll("filename");
  if (files.empty()) return Usage("must specify one of -f and --filename");
  if (!args.positionals.empty()) return Usage("unexpected argument " + args.positionals[0] + " (use -f FILE)");
  std::vector<std::string> errors;
  *docs = LoadManifests(files, &errors);
  *failed = !errors.empty();
  for (const auto& e : errors) *err << e << "\n";
  return kExitOk;
}

namespace {

std::string MainHelp() {
  std::string out =
      "threatwall: the command-line client of threatwalld (Calico-style threat feeds and policy).\n\n"
      "Usage: threatwall [global flags] COMMAND [args] [flags]\n\nCommands:\n";
  size_t width = 0;
  for (const auto& c : Commands()) width = std::max(width, c.name.size());
  for (const auto& c : Commands()) {
    out += "  " + std::string(c.name) + std::string(width - c.name.size() + 3, ' ') + std::string(c.summary) + "\n";
  }
  out += "  help" + std::string(width - 4 + 3, ' ') + "Show help for a command\n";
  out += "\nGlobal flags:\n" + FormatFlagHelp(GlobalFlags());
  out += "\nThe server and token come from --server/--token, else THREATWALL_SERVER/THREATWALL_TOKEN,\n"
         "else the config file (keys server, token, token-file), else the local daemon's data dir\n"
         "($THREATWALL_DATA_DIR or /var/lib/threatwall: address, admin.token).\n";
  return out;
}

std::string CommandHelp(const Command& c) {
  std::string out = std::string(c.summary) + ".\n\nUsage: threatwall " + std::string(c.synopsis) + "\n";
  if (!c.description.empty()) out += "\n" + std::string(c.description) + "\n";
  if (!c.flags.empty()) out += "\nFlags:\n" + FormatFlagHelp(c.flags);
  out += "\nGlobal flags:\n" + FormatFlagHelp(GlobalFlags());
  return out;
}

}  // namespace

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const ConfigInputs& base_inputs) {
  auto usage = [&](std::string_view message) {
    err << "threatwall: " << message << "\nRun 'threatwall help' for usage.\n";
    return kExitUsage;
  };
  auto index = FindCommand(args, GlobalFlags());
  if (!index) return usage(index.error().message());
  if (*index >= args.size()) {
    // No command: help if asked, else usage.
    for (const auto& a : args) {
      if (a == "-h" || a == "--help") {
        out << MainHelp();
        return kExitOk;
      }
    }
    err << MainHelp();
    return kExitUsage;
  }
  std::string name = args[*index];
  std::vector<std::string> rest(args.begin(), args.begin() + static_cast<long>(*index));
  rest.insert(rest.end(), args.begin() + static_cast<long>(*index) + 1, args.end());

  if (name == "help") {
    auto parsed = ParseArgs(rest, GlobalFlags());
    if (!parsed || parsed->positionals.empty()) {
      out << MainHelp();
      return kExitOk;
    }
    const Command* c = FindCommandByName(parsed->positionals[0]);
    if (c == nullptr) return usage("unknown command " + Quote(parsed->positionals[0]));
    out << CommandHelp(*c);
    return kExitOk;
  }
  const Command* command = FindCommandByName(name);
  if (command == nullptr) return usage("unknown command " + Quote(name));

  std::vector<FlagSpec> specs = GlobalFlags();
  specs.insert(specs.end(), command->flags.begin(), command->flags.end());
  auto parsed = ParseArgs(rest, specs);
  Context ctx;
  ctx.command = name;
  ctx.out = &out;
  ctx.err = &err;
  if (!parsed) return ctx.Usage(parsed.error().message());
  ctx.args = std::move(*parsed);
  if (ctx.args.Has("help")) {
    out << CommandHelp(*command);
    return kExitOk;
  }
  ctx.config_inputs = base_inputs;
  ctx.config_inputs.flag_server = ctx.args.Get("server");
  ctx.config_inputs.flag_token = ctx.args.Get("token");
  ctx.config_inputs.flag_config = ctx.args.Get("config");
  if (ctx.args.Has("v")) {
    std::string v = ctx.args.Get("v");
    int level = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), level);
    if (ec != std::errc() || p != v.data() + v.size() || level < 0) {
      return ctx.Usage("-v: expected a number, got " + Quote(v));
    }
    ctx.verbosity = level;
  }
  auto timeout = ParseTimeout(ctx.args.Get("request-timeout", "30s"));
  if (!timeout) return ctx.Usage(timeout.error().message());
  ctx.timeout = *timeout;
  return command->handler(ctx);
}

}  // namespace tw::cli
