// Admission: turns a decoded document into a stored-form object of a served
// kind, or says precisely why not.
//
// Steps, all pure: (1) identify the kind from apiVersion/kind ("kind not
// served" otherwise); (2) strict structural check against the kind's schema
// (unknown fields, wrong types -- every error with its field path);
// (3) Calico/Kubernetes defaults (policy `types`, feed `content`/`mode`/
// `pull.period`, tier `defaultAction`, ...); (4) validation per
// docs/calico-semantics.md (names, labels, selectors, ports, CIDRs,
// durations, cross-field rules).  Checks that need the datastore (the tier
// of a policy exists, ...) are the API's job, not this one.
#ifndef TW_MODEL_ADMIT_H_
#define TW_MODEL_ADMIT_H_

#include <boost/json.hpp>

#include <string>

#include "base/result.h"
#include "model/kinds.h"

namespace tw::model {

struct Admitted {
  const KindInfo* kind = nullptr;
  // The object with defaults applied and values canonicalised (e.g.
  // protocol "tcp" -> "TCP").  Keeps every metadata field that was given
  // (name, namespace, labels, annotations, resourceVersion, uid, ...);
  // `managedFields` is dropped.  `status` is kept as given (the API drops it
  // for kinds whose status is a subresource).
  boost::json::object object;
};

// Errors are InvalidArgument (or Unsupported for a kind not served) with the
// message "FIELD.PATH: REASON" for the first problem, e.g.
//   "spec.egress[0].destination.selector: unexpected '=' at column 12"
//   "spec.pull.http.urll: unknown field"
//   "kind not served: apps/v1 Deployment"
// and one StatusCause per problem found (field, reason in Kubernetes terms
// -- FieldValueInvalid, FieldValueRequired, FieldValueNotSupported,
// FieldValueTypeInvalid, FieldValueDuplicate, FieldValueTooLong,
// FieldValueTooMany, FieldValueNotFound, FieldValueUnknown -- and message).
// Structural problems (unknown fields, wrong types, enums, required fields,
// lengths) are all reported together; the semantic checks run only on a
// structurally clean document, and their problems are reported together too.
// The per-kind rules are in kinds_calico.cc, kinds_policy.cc (with the
// policy tier/name rule) and kinds_core.cc.
// `default_namespace` fills metadata.namespace of a namespaced kind when it
// is missing (kubectl's -n); it is never set on a cluster-scoped kind.
Result<Admitted> Admit(const boost::json::value& doc, const std::string& default_namespace = "default");

}  // namespace tw::model

#endif  // TW_MODEL_ADMIT_H_
