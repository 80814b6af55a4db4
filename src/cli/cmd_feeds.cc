// `threatwall feeds parse`: the offline dry run of a feed (issue 3 item 7).
// The format flags become a GlobalThreatFeed spec that goes through the same
// admission and the same parsers the daemon uses, so what this prints is what
// a feed with that manifest would store.
#include <algorithm>
#include <charconv>
#include <ostream>

#include "base/file.h"
#include "cli/commands.h"
#include "feeds/parse/domain.h"
#include "feeds/parse/feed_format.h"
#include "feeds/parse/parse.h"
#include "model/admit.h"
#include "net/cidr_set.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

constexpr size_t kMaxExamples = 5;

// The spec.pull.http.format object the flags describe.
Result<json::object> FormatFromFlags(const ParsedArgs& args) {
  std::string format = args.Get("format", "newline");
  json::object out;
  if (format == "newline" || format == "newlineDelimited") {
    out["newlineDelimited"] = json::object();
  } else if (format == "json") {
    out["json"] = json::object{{"path", args.Get("path", "$.")}};
  } else if (format == "csv") {
    json::object csv;
    if (args.Has("field-num")) {
      std::string text = args.Get("field-num");
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size())
        return Status::InvalidArgument("--field-num " + text + ": expected a column number counted from 0");
      csv["fieldNum"] = n;
    }
    if (args.Has("field-name")) csv["fieldName"] = args.Get("field-name");
    if (args.Has("header")) csv["header"] = true;
    if (args.Has("column-delimiter")) csv["columnDelimiter"] = args.Get("column-delimiter");
    if (args.Has("comment-delimiter")) csv["commentDelimiter"] = args.Get("comment-delimiter");
    if (args.Has("disable-record-size-validation")) csv["disableRecordSizeValidation"] = true;
    out["csv"] = std::move(csv);
  } else {
    return Status::InvalidArgument("--format " + format + ": expected newline, json or csv");
  }
  return out;
}

// Reads FILE, or a file:// URL.  Pulling http(s) URLs is the daemon's feed
// puller's job; offline we say so rather than half-implement it.
Result<std::string> ReadSource(const std::string& source) {
  std::string path = source;
  if (path.rfind("file://", 0) == 0) {
    path = path.substr(7);
  } else if (path.find("://") != std::string::npos) {
    return Status::Unsupported(source + ": only files and file:// URLs can be read offline; "
                               "download the feed first (for example with curl -o) and pass the file");
  }
  return ReadFile(path, 1u << 30);
}

void PrintExamples(std::ostream& err, const std::vector<std::pair<uint64_t, std::string>>& examples) {
  for (const auto& [line, text] : examples) err << "  line " << line << ": " << text << "\n";
}

}  // namespace

int RunFeeds(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.empty()) return ctx.Usage("expected a subcommand: parse");
  if (pos[0] != "parse") return ctx.Usage("unknown subcommand " + pos[0] + " (expected parse)");
  if (pos.size() != 2) return ctx.Usage("parse takes exactly one FILE or file:// URL");
  const std::string& source = pos[1];

  auto format = FormatFromFlags(ctx.args);
  if (!format) return ctx.Usage(format.error().message());
  std::string content = ctx.args.Get("content", "IPSet");
  json::object spec{{"content", content},
                    {"pull", json::object{{"http", json::object{{"url", "file:///feed"}, {"format", *format}}}}}};
  json::object doc{{"apiVersion", "projectcalico.org/v3"},
                   {"kind", "GlobalThreatFeed"},
                   {"metadata", json::object{{"name", "feeds-parse"}}},
                   {"spec", spec}};
  auto admitted = model::Admit(doc);
  if (!admitted) return ctx.Usage("invalid feed settings: " + admitted.error().message());
  const json::value& admitted_spec = admitted->object.at("spec");
  auto feed_format = feeds::FeedFormatFromSpec(admitted_spec);
  if (!feed_format) return ctx.Fail(feed_format.error().message());
  auto feed_content = feeds::ContentFromSpec(admitted_spec);
  if (!feed_content) return ctx.Fail(feed_content.error().message());

  auto body = ReadSource(source);
  if (!body) return ctx.Fail(body.error().message());
  auto parsed = feeds::ParseFeedBody(*body, *feed_format, *feed_content);
  if (!parsed) return ctx.Fail(source + ": " + parsed.error().message());

  std::vector<std::pair<uint64_t, std::string>> invalid;
  uint64_t invalid_count = 0;
  auto note_invalid = [&](size_t i, std::string text) {
    ++invalid_count;
    if (invalid.size() < kMaxExamples) invalid.emplace_back(parsed->entry_lines[i], std::move(text));
  };
  uint64_t kept = 0;
  if (*feed_content == feeds::Content::kIPSet) {
    net::CidrSet::Builder builder;
    builder.Reserve(parsed->entries.size());
    for (size_t i = 0; i < parsed->entries.size(); ++i) {
      if (!builder.AddText(parsed->entries[i])) note_invalid(i, std::string(parsed->entries[i]) + " (not an IP address or CIDR)");
    }
    net::CidrSet set = builder.Build();
    std::string text = set.ToText(/*compact=*/true);
    *ctx.out << text;
    kept = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
  } else {
    std::vector<std::string> names;
    names.reserve(parsed->entries.size());
    for (size_t i = 0; i < parsed->entries.size(); ++i) {
      feeds::DomainResult d = feeds::NormalizeDomain(parsed->entries[i]);
      if (d.ok()) {
        names.push_back(std::move(d.name));
      } else {
        note_invalid(i, std::string(parsed->entries[i]) + " (" + d.reason + ")");
      }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const std::string& n : names) *ctx.out << n << "\n";
    kept = names.size();
  }

  std::ostream& err = *ctx.err;
  err << source << ": " << parsed->entries.size() << " entries read from " << parsed->data_lines
      << " data lines; " << kept << (*feed_content == feeds::Content::kIPSet ? " prefixes" : " domains")
      << " kept\n";
  if (parsed->skipped > 0) {
    err << "  " << parsed->skipped << " lines skipped by the parser:\n";
    for (const auto& s : parsed->examples) err << "  line " << s.line << ": " << s.text << " (" << s.reason << ")\n";
  }
  if (parsed->ignored > 0) err << "  " << parsed->ignored << " localhost-style hosts-file names ignored\n";
  if (invalid_count > 0) {
    err << "  " << invalid_count << " invalid entries dropped:\n";
    PrintExamples(err, invalid);
  }
  return kExitOk;
}

}  // namespace tw::cli
