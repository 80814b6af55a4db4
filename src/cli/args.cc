#include "cli/args.h"

#include <algorithm>
#include <optional>

namespace tw::cli {

std::string ParsedArgs::Get(std::string_view name, std::string_view fallback) const {
  auto it = flags_.find(std::string(name));
  if (it == flags_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(std::string_view name) const {
  auto it = flags_.find(std::string(name));
  return it == flags_.end() ? std::vector<std::string>{} : it->second;
}

namespace {

const FlagSpec* FindLong(const std::vector<FlagSpec>& specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const FlagSpec* FindShort(const std::vector<FlagSpec>& specs, char c) {
  for (const auto& s : specs) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

// Consumes the flag at args[*i]; on success *i points at its last token.
Status ParseOneFlag(const std::vector<std::string>& args, size_t* i, const std::vector<FlagSpec>& specs,
                    ParsedArgs* out) {
  const std::string& arg = args[*i];
  const FlagSpec* spec = nullptr;
  std::string shown;
  std::optional<std::string> inline_value;
  if (arg.starts_with("--")) {
    std::string_view body = std::string_view(arg).substr(2);
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    if (eq != std::string_view::npos) inline_value = std::string(body.substr(eq + 1));
    spec = FindLong(specs, name);
    shown = "--" + std::string(name);
  } else {
    spec = FindShort(specs, arg[1]);
    shown = arg.substr(0, 2);
    if (arg.size() > 2) {
      // "-nfoo" and "-n=foo" for value flags; combined switches ("-it", "-Aw") are split by cli.cc first.
      inline_value = arg[2] == '=' ? arg.substr(3) : arg.substr(2);
    }
  }
  if (spec == nullptr) return Status::InvalidArgument("unknown flag: " + shown);
  if (!spec->takes_value) {
    if (inline_value) {
      if (arg.starts_with("--") && (*inline_value == "true" || *inline_value == "false")) {
        if (*inline_value == "true") out->Add(spec->name, "true");
        return Status::Ok();
      }
      return Status::InvalidArgument("flag " + shown + " does not take a value");
    }
    out->Add(spec->name, "true");
    return Status::Ok();
  }
  if (inline_value) {
    out->Add(spec->name, *inline_value);
    return Status::Ok();
  }
  if (*i + 1 >= args.size()) return Status::InvalidArgument("flag needs an argument: " + shown);
  ++*i;
  out->Add(spec->name, args[*i]);
  return Status::Ok();
}

bool LooksLikeFlag(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

}  // namespace

Result<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  ParsedArgs out;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || !LooksLikeFlag(arg)) {
      out.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    TW_RETURN_IF_ERROR(ParseOneFlag(args, &i, specs, &out));
  }
  return out;
}

Result<size_t> FindCommand(const std::vector<std::string>& args, const std::vector<FlagSpec>& global) {
  ParsedArgs ignored;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!LooksLikeFlag(args[i])) return i;
    if (args[i] == "--") return i + 1;
    TW_RETURN_IF_ERROR(ParseOneFlag(args, &i, global, &ignored));
  }
  return args.size();
}

std::string FormatFlagHelp(const std::vector<FlagSpec>& specs) {
  std::vector<std::string> left;
  size_t width = 0;
  for (const auto& s : specs) {
    std::string l = s.short_name != 0 ? std::string("  -") + s.short_name + ", " : std::string("      ");
    l += "--" + std::string(s.name);
    if (s.takes_value) l += " " + std::string(s.value_name.empty() ? "VALUE" : s.value_name);
    width = std::max(width, l.size());
    left.push_back(std::move(l));
  }
  std::string out;
  for (size_t i = 0; i < specs.size(); ++i) {
    out += left[i] + std::string(width - left[i].size() + 3, ' ') + std::string(specs[i].help) + "\n";
  }
  return out;
}

}  // namespace tw::cli
