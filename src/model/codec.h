// Text <-> JSON value codecs: YAML (as Kubernetes reads and prints it) and
// JSON.  Pure functions; no knowledge of kinds.
#ifndef TW_MODEL_CODEC_H_
#define TW_MODEL_CODEC_H_

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::model {

// Parses a stream of one or more YAML documents (separated by `---`) into
// JSON values, resolving plain scalars as sigs.k8s.io/yaml does (null, true/
// false, integers, floats, else string; quoted scalars are always strings).
// Empty documents are skipped.  Anchors/aliases are resolved; YAML that has
// no JSON equivalent (non-string keys that are not scalars, recursion) is an
// error.  Error messages: "document N: line L, column C: REASON".
//
// Details that follow go-yaml v2 (what kubectl uses):
//   - null: empty, `~`, `null`, `Null`, `NULL`;
//   - bool: `true/false`, `yes/no`, `on/off`, `y/n` in lower, Capitalised and
//     UPPER case (YAML 1.1, as go-yaml v2 resolves them);
//   - int: decimal, `0x1F`, `0o17`, `017` (octal), `0b101`, optional sign,
//     `_` separators; beyond int64 -> uint64, beyond that -> float; a hex/
//     octal/binary literal beyond uint64 stays a string;
//   - float: `1.5`, `1e3`, `.5`; a float with an integral value becomes an
//     integer (as after Kubernetes' YAML->JSON->decode trip, where 1.0 and
//     1e3 arrive as 1 and 1000); `.inf`/`.nan` are errors (JSON has no such
//     numbers; kubectl fails the same way); a float overflowing double stays
//     a string;
//   - timestamps stay strings; explicit tags `!!str`, `!!int`, `!!float`,
//     `!!bool`, `!!null` are honoured (a value that does not fit is an
//     error); unknown tags are ignored (value kept as a string);
//   - map keys become strings (`1` -> "1", `yes` -> "true"); null or
//     collection keys are errors; duplicate keys are errors; `<<` merge keys
//     are supported (explicit keys win);
//   - nesting deeper than 500 levels and excessive alias expansion ("billion
//     laughs") are errors; input must be UTF-8 without control characters
//     (tab, LF, CR allowed), as libyaml requires; a quoted scalar must be
//     closed.
// yaml-cpp parses about 2 MB/s: a 1,000,000-entry network set in YAML takes
// ~10 s to read (JSON: well under a second).
Result<std::vector<boost::json::value>> ParseYamlDocuments(std::string_view text);

// One document of a YAML stream with its 1-based position in the stream
// (counting empty documents too, so that "document N" matches what a user
// counts between `---` separators).
struct YamlDocument {
  int index = 0;
  boost::json::value value;
};

// Like ParseYamlDocuments, keeping each document's position.
Result<std::vector<YamlDocument>> ParseYamlStream(std::string_view text);

// Resolves one plain (unquoted, untagged) YAML scalar as
// ParseYamlDocuments does; e.g. "150" -> 150, "yes" -> true, "a" -> "a".
// Errors only for values JSON cannot hold (".inf", ".nan").
Result<boost::json::value> ResolvePlainScalar(std::string_view text);

// Parses one JSON text or a stream of concatenated JSON values (JSON lines).
// Errors name the value ("document N"), line and column.  Duplicate keys in
// an object are errors (as in Kubernetes' strict decoding); nesting is
// limited to 500 levels.
Result<std::vector<boost::json::value>> ParseJsonDocuments(std::string_view text);

// Prints a value as YAML the way `kubectl get -o yaml` does: block style,
// map keys sorted, strings quoted only when needed (values that would read
// back as another type, or with special characters), two-space indent,
// lists not indented under their key.
//
// As go-yaml v2 (kubectl) does: strings that would read back as another type
// ("150", "true", "null", "", timestamps, "1:20") are double-quoted;
// strings that cannot be plain (leading/trailing space, ": ", " #", leading
// indicator characters) are single-quoted; strings with non-printable
// characters are double-quoted with escapes; strings with line breaks are
// literal blocks (`|`, `|-`, `|+`); keys are sorted in go-yaml's "natural"
// order (digit runs compare as numbers); long scalars are folded at spaces
// past column 80; empty maps/lists print as `{}`/`[]`.  Guarantee:
// ParseYamlDocuments(ToYaml(v)) == {v} for every value ParseYamlDocuments
// returns, and for any value without doubles that have an integral value
// (those, e.g. 1.0 from JSON, come back as the integer 1, as in Kubernetes).
// Non-UTF-8 bytes in strings are printed as \xNN escapes (not round-trip).
// Linear time; one output string.
std::string ToYaml(const boost::json::value& v);

struct YamlOptions {
  // Fold plain and quoted scalars at spaces after this column; <= 0 never
  // folds.  80 is go-yaml v2's (and so kubectl's) width.
  int line_width = 80;
};
std::string ToYaml(const boost::json::value& v, const YamlOptions& options);

// Pretty JSON like `kubectl get -o json`: 4-space indent, keys in their
// stored order.
// Strings are escaped as Go's encoding/json does (`<`, `>`, `&`, U+2028,
// U+2029 as \u escapes); doubles print as Go prints float64 (1.5, 1e+21).
// No trailing newline (kubectl adds one when printing).
std::string ToPrettyJson(const boost::json::value& v);

// A JSON scalar as kubectl prints it in a table cell or YAML: strings as is,
// numbers like Go ("150", "1.5", "1e+21"), "true"/"false", "null" (objects
// and arrays as compact JSON).
std::string ScalarToString(const boost::json::value& v);

}  // namespace tw::model

#endif  // TW_MODEL_CODEC_H_
