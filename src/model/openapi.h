// OpenAPI v3 schemas of the served kinds, generated from the admission
// schemas (kind_rules.h), so what kubectl validates and explains is exactly
// what admission enforces.
#ifndef TW_MODEL_OPENAPI_H_
#define TW_MODEL_OPENAPI_H_

#include <boost/json.hpp>

#include "model/kinds.h"

namespace tw::model {

// The kind's document schema as an OpenAPI v3 schema object: type,
// properties, required, enum, items, additionalProperties, maxLength,
// maxItems, minimum/maximum, descriptions where we have them;
// `x-kubernetes-int-or-string` for ports and
// `x-kubernetes-preserve-unknown-fields` for free-form sub-objects (and for
// status objects controllers extend); and at the top
// `x-kubernetes-group-version-kind: [{group, version, kind}]`.
// (The API may remove that extension for built-in kinds, see
// api/openapi.h.)  Pure; the same object on every call.
boost::json::object OpenApiV3Schema(const KindInfo& kind);

}  // namespace tw::model

#endif  // TW_MODEL_OPENAPI_H_
