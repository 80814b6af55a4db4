// Value validators shared by the admission rules of every kind: Kubernetes
// names and labels, IP addresses and CIDRs, ports and protocols, Go
// durations, base64, URLs, domain names.  Pure functions, no state.
//
// The Check* functions return an empty string when the value is valid and
// otherwise the reason, phrased as Kubernetes phrases it where Kubernetes has
// such a check, without the field path (the caller adds it):
//   CheckDns1123Label("Foo") ==
//     "a lowercase RFC 1123 label must consist of lower case alphanumeric ..."
#ifndef TW_MODEL_VALIDATORS_H_
#define TW_MODEL_VALIDATORS_H_

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tw::model {

// ---- Kubernetes names ------------------------------------------------------

// DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters
// (namespaces, tiers, container names).
std::string CheckDns1123Label(std::string_view s);
// DNS-1123 subdomain: dot-separated labels, at most 253 characters (most
// object names).
std::string CheckDns1123Subdomain(std::string_view s);
// Label and annotation keys: optional "prefix/" (a DNS-1123 subdomain, at
// most 253) then a name of at most 63 of [A-Za-z0-9-_.], alphanumeric at
// both ends.
std::string CheckQualifiedName(std::string_view s);
// Label values: empty, or at most 63 of [A-Za-z0-9-_.], alphanumeric at both
// ends.
std::string CheckLabelValue(std::string_view s);
// Keys of Secret/ConfigMap data: [-._a-zA-Z0-9]+, at most 253, not "." or
// "..", not starting with "..".
std::string CheckConfigMapKey(std::string_view s);
// IANA service names (named container/NetworkPolicy ports): at most 15 of
// [a-z0-9-], at least one letter, no leading, trailing or double '-'.
std::string CheckIanaSvcName(std::string_view s);
// Environment variable names: printable ASCII except '=', non-empty.
std::string CheckEnvVarName(std::string_view s);

// ---- Network values --------------------------------------------------------

// An address or prefix.  `addr` holds 4 (IPv4) or 16 (IPv6) meaningful bytes.
struct IpNet {
  int family = 4;                     // 4 or 6
  std::array<uint8_t, 16> addr = {};  // network byte order
  int prefix_len = 32;                // 0-32 or 0-128
  bool has_prefix = false;            // written as a CIDR ("/n" present)
};

// Parses "1.2.3.4", "10.0.0.0/8", "fd00::/64", "::1".  A bare address is a
// /32 or /128.  IPv4 octets with leading zeros are rejected (as Go does).
// Error: InvalidArgument "invalid CIDR or IP address".
Result<IpNet> ParseCidrOrIp(std::string_view s);
// Same, but the "/n" is required.
Result<IpNet> ParseCidr(std::string_view s);
// True when `inner` lies within `outer` (same family, longer or equal
// prefix, same leading bits).
bool NetContains(const IpNet& outer, const IpNet& inner);

// Calico protocol names, case-insensitive: returns the canonical spelling
// (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite) or nullopt.
std::optional<std::string> CanonicalProtocolName(std::string_view s);

// One entry of a Calico rule's ports/notPorts: an integer 0-65535, a
// "min:max" range with min <= max, a number as a string, or a named port
// ([a-zA-Z0-9_.-]{1,128}).  Empty when valid.
std::string CheckCalicoPort(const boost::json::value& v);
// True for a named port (as opposed to a number or range).
bool IsNamedCalicoPort(const boost::json::value& v);

// Wildcard-capable domain as in Calico's allowedEgressDomains and rule
// `domains`: "example.com", "*.example.com", "a.*.example.com"; not "x.*",
// not a partial-label wildcard ("a*.b"), at most one '*'.
std::string CheckWildcardDomain(std::string_view s);

// An absolute URL whose scheme is http or https (with a host), or, when
// `allow_file`, file:// (file:///path or file://localhost/path).
std::string CheckFeedUrl(std::string_view s, bool allow_file);

// ---- Durations, encodings ---------------------------------------------------

// Go's time.ParseDuration, exactly: "300ms", "-1.5h", "2h45m", "0";
// units ns, us, µs, μs, ms, s, m, h.  Returns nanoseconds.  Errors copy Go's
// texts: `time: invalid duration "x"`, `time: missing unit in duration "1"`,
// `time: unknown unit "d" in duration "1d"`.
Result<int64_t> ParseGoDuration(std::string_view s);

// Standard base64 with padding, as Kubernetes decodes []byte fields (line
// breaks are ignored).
bool IsValidBase64(std::string_view s);
std::string Base64Encode(std::string_view bytes);
// Decodes standard base64 (CR/LF ignored); nullopt unless IsValidBase64.
std::optional<std::string> Base64Decode(std::string_view text);

// Number of UTF-8 code points in `s`, or -1 when `s` is not valid UTF-8.
int Utf8Length(std::string_view s);

}  // namespace tw::model

#endif  // TW_MODEL_VALIDATORS_H_
