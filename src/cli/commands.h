// The `threatwall` CLI: its subcommand table (ninja ChooseTool style: name,
// help, handler) and what every handler gets.  Handlers return the process
// exit code: 0 success, 1 failure (server or input error), 2 usage error.
#ifndef TW_CLI_COMMANDS_H_
#define TW_CLI_COMMANDS_H_

#include <boost/json.hpp>

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cli/api_client.h"
#include "cli/args.h"
#include "cli/config.h"
#include "model/manifest.h"

namespace tw::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Everything a handler needs; owns nothing global.
struct Context {
  std::string command;  // "get"
  ParsedArgs args;      // positionals after the command + every flag
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  ConfigInputs config_inputs;
  int verbosity = 0;
  std::chrono::milliseconds timeout{0};  // --request-timeout; 0 = none

  // Resolves server and token (config.h) and returns a client for them.
  Result<ApiClient> Client() const;
  // The server URL Client() would use (for messages and kubeconfig).
  Result<ClientConfig> Config() const;

  // Prints "threatwall: MESSAGE" to err and returns `code`.
  int Fail(std::string_view message, int code = kExitFailure) const;
  // Prints the command's usage error and returns kExitUsage.
  int Usage(std::string_view message) const;

  // Reads the documents of the -f arguments into `docs`, printing one line
  // per file that cannot be read or parsed (and setting `*failed`).
  // Returns kExitOk, or the usage error's exit code when no -f was given or
  // a positional argument was.
  int ReadFileArgs(std::vector<model::ManifestDocument>* docs, bool* failed) const;
};

using Handler = int (*)(Context& ctx);

struct Command {
  std::string_view name;
  std::string_view synopsis;     // "get KIND [NAME...] [flags]"
  std::string_view summary;      // one line for `threatwall help`
  std::string_view description;  // longer text for `threatwall CMD --help`
  std::vector<FlagSpec> flags;   // besides the global ones
  Handler handler;
};

// Every command, in help order.
const std::vector<Command>& Commands();
const Command* FindCommandByName(std::string_view name);
// Flags every command accepts: --server, --token, --config,
// --request-timeout, -v, -h/--help.
const std::vector<FlagSpec>& GlobalFlags();

// Runs the CLI on `args` (without argv[0]).
int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const ConfigInputs& base_inputs);

// Parses a kubectl-style duration for --request-timeout: "30s", "1m",
// "500ms", "0" (no limit), a bare number = seconds.
Result<std::chrono::milliseconds> ParseTimeout(std::string_view text);

// Handlers (one file per group).
int RunCreate(Context& ctx);
int RunApply(Context& ctx);
int RunReplace(Context& ctx);
int RunDelete(Context& ctx);
int RunGet(Context& ctx);
int RunDescribe(Context& ctx);
int RunValidate(Context& ctx);
int RunSelector(Context& ctx);
int RunFeeds(Context& ctx);  // feeds parse
int RunFeedsSync(Context& ctx);
int RunFeedsCommand(Context& ctx);  // dispatches feeds sync | parse
int RunVersion(Context& ctx);
int RunKubeconfig(Context& ctx);
int RunExplain(Context& ctx);
int RunExec(Context& ctx);
int RunHunt(Context& ctx);  // cmd_hunt.cc, grepcidr-compatible (hunt.h)
int RunFlows(Context& ctx);    // cmd_logs.cc: flows, dnslogs, events [dismiss ID...]
int RunDnsLogs(Context& ctx);
int RunEvents(Context& ctx);

// flows / dnslogs / events (cmd_logs.cc), their pure parts.
// The API path with query for `command` ("flows", "dnslogs", "events") and
// its parsed flags: "/threatwall/v1/flowlogs?since=10m&action=deny&pod=default%2Fweb".
// A --pod without "/" is in --namespace (flows, dnslogs) or "default";
// events without --all ask for dismissed=false.  InvalidArgument (a usage
// error) for an --action other than allow or deny; the rest (times,
// limits, names) is checked by the server.
Result<std::string> LogsRequestPath(std::string_view command, const ParsedArgs& args);
// A string from a log made safe for a terminal: C0 controls and DEL as
// \xNN (\n, \t, \r for those), C1 controls and bidirectional overrides
// as \uNNNN, bytes that are not UTF-8 as \xNN, and a backslash doubled
// so that escapes are unambiguous.  Printable UTF-8 is kept.
std::string SafeText(std::string_view s);
// JSON text with DEL, C1 controls and bidirectional overrides inside its
// strings written as \uNNNN escapes (the same JSON value, safe to print).
std::string EscapeJsonForTerminal(std::string_view json_text);

// explain (cmd_explain.cc): the API path with query for the parsed
// arguments ("/threatwall/v1/explain?from=..&to=..&fromNamespace=..").
// InvalidArgument (a usage error) for a missing --from/--to, a positional
// argument, or a --port (1-65535) / --icmp-type / --icmp-code (0-255) that
// is not such a number.  The rest is checked by the server.
Result<std::string> ExplainRequestPath(const ParsedArgs& args);

// exec (cmd_exec.cc), its parts exposed for tests.
// The annotation the policy agent sets on a Pod to name its network
// namespace; exec prefers it to node::SandboxNetnsName.
inline constexpr char kExecNetnsAnnotation[] = "threatwall.io/netns";
// The network namespace to run in for `pod` (the Pod object the API
// returned for ns/name): InvalidArgument unless status.phase is Running;
// then the annotation when set (a valid netns name), else
// node::SandboxNetnsName(ns, name).
Result<std::string> ExecNetnsForPod(const boost::json::value& pod, std::string_view ns, std::string_view name);
// Runs `argv` in `netns` ("" = this process's own) sharing our stdin,
// stdout and stderr, and returns its exit code (128 + N when killed by
// signal N).  Errors go to ctx.err: 127 when argv[0] is not found, 126 when
// it cannot be run, 1 when the namespace does not exist.
int ExecInNetns(const Context& ctx, const std::string& netns, const std::vector<std::string>& argv);

// Standard base64 with padding (kubeconfig's *-data fields).
std::string Base64(std::string_view data);

}  // namespace tw::cli

#endif  // TW_CLI_COMMANDS_H_
