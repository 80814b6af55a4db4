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
Result<std::vector<boost::json::value>> ParseYamlDocuments(std::string_view text);

// Parses one JSON text or a stream of concatenated JSON values (JSON lines).
// Errors name the line and column.
Result<std::vector<boost::json::value>> ParseJsonDocuments(std::string_view text);

// Prints a value as YAML the way `kubectl get -o yaml` does: block style,
// map keys sorted, strings quoted only when needed (values that would read
// back as another type, or with special characters), two-space indent,
// lists not indented under their key.
std::string ToYaml(const boost::json::value& v);

// Pretty JSON like `kubectl get -o json`: 4-space indent, keys in their
// stored order.
std::string ToPrettyJson(const boost::json::value& v);

}  // namespace tw::model

#endif  // TW_MODEL_CODEC_H_
