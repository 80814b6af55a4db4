// Domain-name normalisation for DomainNameSet feeds.
//
// Calico (calico-semantics.md §1.4) does: IDNA ToUnicode (on error keep the
// input), lower-case, strip leading/trailing dots, collapse dot runs, and no
// validity check.  We do the same canonical form, and in addition pull the
// host out of feed lines that are clearly not bare names, or reject them with
// a reason the caller counts:
//  * `scheme://[user@]host[:port]/path` -> host; `host/path` -> host;
//  * a leading `*.` (wildcard lists) is dropped: the set matches the name;
//  * rejected: e-mail addresses (`@` without a scheme), defanged hosts
//    (`[.]`, `(.)`, `hxxp`), truncated hosts (U+2026 "..."), other `*`,
//    spaces, and characters that never occur in host names (`,` `"` `<`...).
// ToUnicode here decodes `xn--` labels with our own RFC 3492 punycode decoder
// (no libidn2: one small, fuzzable function instead of a new system library;
// Unicode input is lower-cased for ASCII only, no NFC/UTS-46 mapping).  A
// label that fails to decode is kept as written, as Calico's lenient profile.
#ifndef TW_FEEDS_PARSE_DOMAIN_H_
#define TW_FEEDS_PARSE_DOMAIN_H_

#include <optional>
#include <string>
#include <string_view>

namespace tw::feeds {

struct DomainResult {
  std::string name;    // canonical form; empty when rejected
  std::string reason;  // why rejected; empty when accepted
  bool ok() const { return reason.empty(); }
};

DomainResult NormalizeDomain(std::string_view entry);

// The canonical form of a host name NormalizeDomain gives for an accepted
// entry, without its checks (for names seen on the wire: DNS queries and
// answers): ASCII lower case, no empty labels, xn-- labels decoded.
std::string CanonicalDomain(std::string_view name);

// RFC 3492 decode of the part after `xn--` to UTF-8; nullopt on bad input.
std::optional<std::string> PunycodeDecode(std::string_view ascii);

}  // namespace tw::feeds

#endif  // TW_FEEDS_PARSE_DOMAIN_H_
