// The three patch formats of the Kubernetes API, as pure functions on JSON.
//
//   application/merge-patch+json          ApplyMergePatch          (RFC 7386)
//   application/json-patch+json           ApplyJsonPatch           (RFC 6902)
//   application/strategic-merge-patch+json ApplyStrategicMergePatch (Kubernetes)
//
// None of them looks at the kind's schema beyond the list merge metadata:
// the caller admits (validates) the result.  Inputs are never modified.
#ifndef TW_API_PATCH_H_
#define TW_API_PATCH_H_

#include <boost/json.hpp>

#include "base/result.h"
#include "model/kinds.h"

namespace tw::api {

// RFC 7386: objects merge recursively, `null` deletes a member, anything
// else (arrays included) replaces.  A non-object patch replaces the target.
// Never fails today; Result for symmetry with the other two.
Result<boost::json::value> ApplyMergePatch(const boost::json::value& target, const boost::json::value& patch);

// RFC 6902: `patch` is an array of operations (add, remove, replace, move,
// copy, test) applied in order; all or nothing.  Paths are RFC 6901 JSON
// pointers (`~1` = '/', `~0` = '~'; `-` appends to an array in add/move/
// copy).  Errors are InvalidArgument naming the operation index, the op and
// the path, e.g.
//   "json patch operation 2 (replace /spec/x): path not found"
//   "json patch operation 0 (test /a): test failed"
Result<boost::json::value> ApplyJsonPatch(const boost::json::value& target, const boost::json::value& patch);

// Kubernetes strategic merge patch, as `kubectl apply` computes it, with
// the list metadata (patchStrategy / patchMergeKey) of the Kubernetes API
// types for the built-in kinds we serve (v1 Pod, Namespace, Secret,
// ConfigMap; networking.k8s.io/v1 NetworkPolicy), plus ObjectMeta's
// (finalizers merged, ownerReferences by uid):
//  - maps merge recursively, `null` deletes;
//  - lists with a merge key merge element-wise by that key (new keys are
//    appended), lists of primitives with strategy merge are unioned, other
//    lists are replaced;
//  - directives: `$patch: replace|delete|merge` in maps and list elements,
//    `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`,
//    `$retainKeys`.
// For kinds without built-in metadata (Calico kinds) every list is replaced,
// i.e. the result equals a merge patch except for directives.
// Errors: InvalidArgument naming the field path and the reason, e.g.
//   "strategic merge patch: spec.containers[1]: missing merge key \"name\""
Result<boost::json::value> ApplyStrategicMergePatch(const boost::json::value& target,
                                                    const boost::json::value& patch,
                                                    const model::KindInfo& kind);

}  // namespace tw::api

#endif  // TW_API_PATCH_H_
