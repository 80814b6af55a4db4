#include "cli/commands.h"

#include <algorithm>
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

// --format's companions, shared by `feeds parse` and `hunt` (read by
// FeedFormatFromFlags in input_file.h).
const std::vector<FlagSpec>& FeedFormatFlags() {
  static const std::vector<FlagSpec> flags = {
      {"path", 0, true, "JSONPATH", "json: where the entries are (default $.)"},
      {"field-num", 0, true, "N", "csv: the column, counted from 0"},
      {"field-name", 0, true, "NAME", "csv: the column by header name (needs --header)"},
      {"header", 0, false, "", "csv: the first record is a header"},
      {"column-delimiter", 0, true, "C", "csv: field separator (default ,)"},
      {"comment-delimiter", 0, true, "C", "csv: lines starting with C are skipped"},
      {"disable-record-size-validation", 0, false, "", "csv: allow records of different lengths"},
  };
  return flags;
}

std::vector<FlagSpec> Concat(std::vector<FlagSpec> a, const std::vector<FlagSpec>& b, std::vector<FlagSpec> c) {
  a.insert(a.end(), b.begin(), b.end());
  a.insert(a.end(), c.begin(), c.end());
  return a;
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
       Concat({{"content", 0, true, "IPSet|DomainNameSet", "what the feed lists (default IPSet)"},
               {"format", 0, true, "newline|json|csv", "body format (default newline)"}},
              FeedFormatFlags(),
              {{"force", 0, false, "", "sync: accept a result the collapse guard would hold back"},
        {"no-wait", 0, false, "", "sync: return once the request is recorded"},
        {"wait-timeout", 0, true, "DURATION", "sync: how long to wait for the pull (default 2m)"}}),
       RunFeedsCommand},
      {"explain",
       "explain --from SRC --to DST [-n NS] [--from-namespace NS] [--to-namespace NS] [--port N]\n"
       "                  [--protocol P] [--icmp-type T [--icmp-code C]] [-o text|json|yaml]",
       "Show whether a flow is allowed by the policy in force, and why",
       "Runs one flow through the policy program threatwalld enforces (the same one the kernel has)\n"
       "and prints the verdict with its path: egress at the source pod, then ingress at the\n"
       "destination pod; each tier, policy and rule that matched (Log rules continue, staged\n"
       "policies are shown but do not enforce), end-of-tier denies and the namespace profile.\n"
       "SRC and DST are pod names (in -n, --from-namespace, --to-namespace; default: default),\n"
       "NS/NAME, or IP addresses (an address of a pod counts as that pod; other addresses are\n"
       "outside the cluster).  --port is the destination port, required for TCP (the default\n"
       "protocol), UDP, SCTP and UDPLite; the source port is taken as 0.\n"
       "Exit 0 whenever the question was answered, whatever the verdict (like kubectl);\n"
       "exit 1 with the server's message when it was not (unknown pod, no policy agent, ...).\n"
       "  threatwall explain --from tf-ubuntu --to 5.196.58.96 --port 443\n"
       "  threatwall explain --from 10.0.0.1 --to prod/db --port 5432 -o yaml\n"
       "  threatwall explain --from web --to 10.244.0.7 --protocol ICMP --icmp-type 8",
       {{"from", 0, true, "SRC", "source: pod name, NS/NAME or IP address (required)"},
        {"to", 0, true, "DST", "destination: pod name, NS/NAME or IP address (required)"},
        {"namespace", 'n', true, "NS", "namespace of pod names on both sides (default: default)"},
        {"from-namespace", 0, true, "NS", "namespace of the source pod (overrides -n)"},
        {"to-namespace", 0, true, "NS", "namespace of the destination pod (overrides -n)"},
        {"port", 0, true, "N", "destination port, 1-65535"},
        {"protocol", 0, true, "P", "TCP (default), UDP, SCTP, UDPLite, ICMP, ICMPv6 or a number 1-255"},
        {"icmp-type", 0, true, "T", "ICMP/ICMPv6 type, 0-255"},
        {"icmp-code", 0, true, "C", "ICMP/ICMPv6 code, 0-255 (needs --icmp-type)"},
        {"output", 'o', true, "FORMAT", "text (default), json or yaml"}},
       RunExplain},
      {"exec", "exec POD [-n NS] [-i] [-t] -- COMMAND [ARGS...]",
       "Run a command in a pod's network namespace",
       "Like kubectl exec, for threatwall's pods (network sandboxes on this machine): the command\n"
       "runs here, as root, with the pod's interfaces, addresses and routes and this machine's\n"
       "filesystem.  The pod must exist (asked from the server) and be Running; its namespace is\n"
       "the pod's annotation threatwall.io/netns, else tw-<namespace>-<pod>.  stdin, stdout and\n"
       "stderr are always passed through (-i and -t are accepted for kubectl compatibility).\n"
       "Exits with the command's exit code (127: command not found, 128+N: killed by signal N).\n"
       "  threatwall exec tf-ubuntu -- curl -m 5 http://5.196.58.96/\n"
       "  threatwall exec -it web -n prod -- sh",
       {{"namespace", 'n', true, "NS", "namespace of the pod (default: default)"},
        {"stdin", 'i', false, "", "pass stdin to the command (always done; for kubectl compatibility)"},
        {"tty", 't', false, "", "accepted for kubectl compatibility (the terminal is passed through)"},
        {"container", 'c', true, "NAME", "ignored: a pod here is one network namespace"}},
       RunExec},
      {"hunt", "hunt --feed FILE [--format newline|json|csv] [format flags] [--invert|-i] [-c] [-x] [LOGFILE...]",
       "Print log lines holding an address of a feed (output identical to grepcidr -f)",
       "Reads FILE like `feeds parse` (every feed format) and scans the logs (standard input when\n"
       "none) for IPv4/IPv6 addresses exactly as grepcidr 2.0 does; with several logs each line\n"
       "is prefixed by its file name.  Exit 0 when a line was printed, 1 when none, 2 on errors.",
       Concat({{"feed", 0, true, "FILE", "the feed (required)"},
               {"format", 0, true, "newline|json|csv", "feed format (default newline)"}},
              FeedFormatFlags(),
              {{"invert", 0, false, "", "grepcidr -v: lines with addresses, none of them in the feed"},
        {"include-noip", 'i', false, "", "grepcidr -i: --invert, plus lines without any address"},
        {"count", 'c', false, "", "grepcidr -c: print the number of selected lines"},
        {"strict", 'x', false, "", "grepcidr -x: only an address at the start of the line"},
        {"threads", 0, true, "N", "scan logs larger than 4 MiB in pieces on N threads (1-64; default: one per core)"}}),
       RunHunt},
      {"flows",
       "flows [--since D|T] [--until D|T] [--action allow|deny] [--pod [NS/]NAME] [--namespace NS]\n"
       "                  [--policy TEXT] [--limit N] [-o wide|json|yaml]",
       "Show flow logs (newest first)",
       "Flow logs of the pods' connections, as threatwalld recorded them (Calico's fields).\n"
       "Columns: TIME (end of the flush interval, UTC), SOURCE and DEST (NS/NAME for a pod, else\n"
       "the address or the network set), PORT (destination), PROTO, ACTION, REPORTER (src: the\n"
       "egress side decided, dst: the ingress side), POLICY (the enforced policy that decided, as\n"
       "tier|name|action|rule), PACKETS and BYTES (in/out).  -o wide adds the labels of both\n"
       "sides, every policy hit (staged ones included) and the flow counts; -o json prints\n"
       "{\"items\": [...]} with the records exactly as stored.\n"
       "--since and --until take a duration before now (10m, 1h30m) or an RFC 3339 time;\n"
       "--pod matches flows from or to that pod (NAME alone is in --namespace, else default),\n"
       "--namespace flows from or to that namespace, --policy a substring of any policy hit.\n"
       "  threatwall flows --since 10m --action deny\n"
       "  threatwall flows --pod default/tf-ubuntu -o json",
       {{"since", 0, true, "D|T", "only records from this long ago (10m, 1h) or this RFC 3339 time on"},
        {"until", 0, true, "D|T", "only records before this (same forms)"},
        {"action", 0, true, "allow|deny", "only allowed or only denied flows"},
        {"pod", 0, true, "[NS/]NAME", "flows from or to this pod"},
        {"namespace", 'n', true, "NS", "flows from or to this namespace (and the namespace of --pod NAME)"},
        {"policy", 0, true, "TEXT", "flows whose policy hits contain TEXT (security.block-snort, |deny|)"},
        {"reporter", 0, true, "src|dst", "only records of this side"},
        {"protocol", 0, true, "P", "only this protocol (tcp, udp, icmp, ...)"},
        {"limit", 0, true, "N", "at most N records (default 100, at most 100000)"},
        {"output", 'o', true, "FORMAT", "wide, json or yaml (default: a table)"},
        {"no-headers", 0, false, "", "omit the table header"}},
       RunFlows},
      {"dnslogs",
       "dnslogs [--since D|T] [--until D|T] [--pod [NS/]NAME] [--namespace NS] [--qname NAME]\n"
       "                  [--qtype T] [--rcode R] [--limit N] [-o wide|json|yaml]",
       "Show DNS logs (newest first)",
       "DNS queries of the pods and their answers (Calico's DNS log fields).  Columns: TIME (UTC),\n"
       "CLIENT (NS/NAME of the pod, else its address), QNAME, QTYPE, RCODE, ANSWERS (the answers'\n"
       "data), LATENCY (mean), COUNT (queries in the record).  -o wide adds the servers and the\n"
       "client's labels; -o json prints {\"items\": [...]} with the records exactly as stored.\n"
       "  threatwall dnslogs --since 1h --qname example.com",
       {{"since", 0, true, "D|T", "only records from this long ago (10m, 1h) or this RFC 3339 time on"},
        {"until", 0, true, "D|T", "only records before this (same forms)"},
        {"pod", 0, true, "[NS/]NAME", "queries of this pod"},
        {"namespace", 'n', true, "NS", "queries of pods in this namespace (and the namespace of --pod NAME)"},
        {"qname", 0, true, "NAME", "only this query name"},
        {"qtype", 0, true, "T", "only this query type (A, AAAA, ...)"},
        {"rcode", 0, true, "R", "only this response code (NoError, NXDomain, ...)"},
        {"limit", 0, true, "N", "at most N records (default 100, at most 100000)"},
        {"output", 'o', true, "FORMAT", "wide, json or yaml (default: a table)"},
        {"no-headers", 0, false, "", "omit the table header"}},
       RunDnsLogs},
      {"events",
       "events [--since D|T] [--until D|T] [--type T] [--feed F] [--pod [NS/]NAME] [--all] [--limit N]\n"
       "                  [-o wide|json|yaml]  |  events dismiss ID...",
       "Show security events, or dismiss them",
       "Security events (gtf_suspicious_flow, gtf_suspicious_dns_query, ...), newest first;\n"
       "dismissed ones only with --all (a DISMISSED column then shows which).  Columns: ID (pass\n"
       "it to dismiss), TIME (UTC), TYPE, SOURCE, DEST, FEEDS (the threat feeds that listed it),\n"
       "ACTION (what the policy did with the flow), DESCRIPTION.  -o wide adds severity, MITRE\n"
       "ids and tactic, the pods' labels and the mitigations; -o json prints {\"items\": [...]}\n"
       "with the events exactly as stored.\n"
       "dismiss: marks each event ID dismissed (needs the admin token) and prints\n"
       "\"event ID dismissed\"; exit 1 if an ID is unknown (the others are still dismissed).\n"
       "  threatwall events --since 1h --feed snort-ip-block-list\n"
       "  threatwall events dismiss 'snort-ip-block-list_1764288000_tcp_10.244.0.2_40312_5.196.58.96_443'",
       {{"since", 0, true, "D|T", "only events from this long ago (10m, 1h) or this RFC 3339 time on"},
        {"until", 0, true, "D|T", "only events before this (same forms)"},
        {"type", 0, true, "T", "only events of this type (gtf_suspicious_flow, ...)"},
        {"feed", 0, true, "F", "only events raised by this GlobalThreatFeed"},
        {"pod", 0, true, "[NS/]NAME", "events whose source or destination is this pod (NAME alone: default)"},
        {"all", 0, false, "", "include dismissed events"},
        {"limit", 0, true, "N", "at most N events (default 100, at most 100000)"},
        {"output", 'o', true, "FORMAT", "wide, json or yaml (default: a table)"},
        {"no-headers", 0, false, "", "omit the table header"}},
       RunEvents},
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

const FlagSpec* FindShortSwitch(const std::vector<FlagSpec>& specs, char c) {
  for (const auto& s : specs) {
    if (s.short_name == c && !s.takes_value) return &s;
  }
  return nullptr;
}

// kubectl's combined short switches: "-it" becomes "-i" "-t" when every
// letter is a switch (not a flag taking a value: "-nprod" stays as it is).
// Nothing after "--" is touched.
std::vector<std::string> ExpandShortSwitches(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  std::vector<std::string> out;
  bool flags_done = false;
  for (const std::string& a : args) {
    flags_done = flags_done || a == "--";
    bool combined = !flags_done && a.size() > 2 && a[0] == '-' && a[1] != '-' &&
                    std::all_of(a.begin() + 1, a.end(), [&](char c) { return FindShortSwitch(specs, c) != nullptr; });
    if (!combined) {
      out.push_back(a);
      continue;
    }
    for (size_t i = 1; i < a.size(); ++i) out.push_back(std::string("-") + a[i]);
  }
  return out;
}

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
  auto parsed = ParseArgs(ExpandShortSwitches(rest, specs), specs);
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
