// `threatwall feeds parse`: the offline dry run of a feed (issue 3 item 7).
// The format flags become a GlobalThreatFeed spec that goes through the same
// admission and the same Ingest() the daemon uses, so what this prints is what
// a feed with that manifest would store.

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ostream>
#include <string>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/input_file.h"
#include "feeds/fetch/fetcher.h"
#include "feeds/ingest.h"
#include "feeds/parse/feed_format.h"
#include "model/admit.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

// Reads FILE, a file:// URL, or fetches an http(s) URL with the daemon's
// fetcher (same TLS checks, redirects, gzip and size limit).
Status ReadSource(const std::string& source, InputFile& body) {
  std::string path = source;
  if (path.rfind("file://", 0) == 0) {
    path = path.substr(7);
  } else if (path.find("://") != std::string::npos) {
    feeds::CurlFetcher fetcher;
    feeds::FetchRequest request;
    request.url = source;
    auto fetched = fetcher.Fetch(request, feeds::FetchLimits());
    if (!fetched.ok()) return fetched.error();
    body.Own(std::move(fetched->body));
    return Status::Ok();
  }
  return body.Load(path, {.max_bytes = size_t{1} << 30});
}

}  // namespace

int RunFeeds(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.empty()) return ctx.Usage("expected a subcommand: parse");
  if (pos[0] != "parse") return ctx.Usage("unknown subcommand " + pos[0] + " (expected parse)");
  if (pos.size() != 2) return ctx.Usage("parse takes exactly one FILE or URL");
  const std::string& source = pos[1];

  auto format = FeedFormatFromFlags(ctx.args);
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

  InputFile body;
  if (Status st = ReadSource(source, body); !st.ok()) return ctx.Fail(st.message());
  auto ingested = feeds::Ingest(body.view(), *feed_format, *feed_content);
  if (!ingested) return ctx.Fail(source + ": " + ingested.error().message());
  const feeds::IngestResult& r = *ingested;

  // The whole output is built in one buffer and written with one call.
  std::string text;
  if (r.content == feeds::Content::kIPSet) {
    r.ips.AppendCidrs(&text, /*compact=*/true, "", "\n");
  } else {
    size_t bytes = 0;
    for (const std::string& n : r.domains) bytes += n.size() + 1;
    text.reserve(bytes);
    for (const std::string& n : r.domains) text.append(n).push_back('\n');
  }
  ctx.out->write(text.data(), static_cast<std::streamsize>(text.size()));

  std::ostream& err = *ctx.err;
  err << source << ": " << r.entries << " entries read from " << r.data_lines << " data lines; " << r.prefixes
      << (r.content == feeds::Content::kIPSet ? " prefixes" : " domains") << " kept\n";
  if (r.ignored > 0) err << "  " << r.ignored << " localhost-style hosts-file names ignored\n";
  if (r.invalid > 0) {
    err << "  " << r.invalid << " invalid entries dropped:\n";
    for (const feeds::SkippedLine& s : r.examples) {
      err << "  line " << s.line << ": " << s.text << " (" << s.reason << ")\n";
    }
  }
  return kExitOk;
}

}  // namespace tw::cli
