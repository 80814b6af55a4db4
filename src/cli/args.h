// Command-line parsing, kubectl-shaped: flags may come before or after the
// positionals, `--name=value`, `--name value`, `-n value`, `-nvalue` and
// `-f -` all work, repeatable flags collect every value, `--` ends flags.
// Pure; no I/O.
#ifndef TW_CLI_ARGS_H_
#define TW_CLI_ARGS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::cli {

struct FlagSpec {
  std::string_view name;        // long name without dashes: "namespace"
  char short_name = 0;          // 'n', or 0 for none
  bool takes_value = false;     // false: a boolean switch
  std::string_view value_name;  // for help: "NS"
  std::string_view help;
};

class ParsedArgs {
 public:
  // Positionals in order (the command name is not among them).
  std::vector<std::string> positionals;

  bool Has(std::string_view name) const { return flags_.count(std::string(name)) > 0; }
  // The last value given for `name`, or `fallback`.
  std::string Get(std::string_view name, std::string_view fallback = "") const;
  // Every value given for `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const;

  void Add(std::string_view name, std::string value) { flags_[std::string(name)].push_back(std::move(value)); }

 private:
  std::map<std::string, std::vector<std::string>> flags_;
};

// Parses `args` (without the program and command names) against `specs`.
// InvalidArgument for an unknown flag ("unknown flag: --foo"), a missing
// value ("flag needs an argument: -n") or a value given to a switch.
Result<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

// Finds the command: the first argument that is neither a flag in `global`
// nor the value of one.  Returns its index, or args.size() when there is
// none; InvalidArgument for an unknown flag before the command.
Result<size_t> FindCommand(const std::vector<std::string>& args, const std::vector<FlagSpec>& global);

// "  -n, --namespace NS   help" lines for a help text.
std::string FormatFlagHelp(const std::vector<FlagSpec>& specs);

}  // namespace tw::cli

#endif  // TW_CLI_ARGS_H_
