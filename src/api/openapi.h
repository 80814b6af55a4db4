// OpenAPI documents for kubectl: GET /openapi/v3, /openapi/v3/<gv path>,
// /openapi/v2.  Pure: the same documents every call.
//
// What kubectl 1.32 does with them, and so what they must contain:
//  - Validation (`create/apply/replace -f` without --validate=false): kubectl
//    fetches /openapi/v3, then the group-version document it points to, and
//    looks for a PATCH operation whose `x-kubernetes-group-version-kind` is
//    the object's GVK and whose parameters include the `fieldValidation`
//    query parameter.  If found, it sends `?fieldValidation=Strict` and
//    leaves validation to the server.  Every PATCH operation here has both.
//  - `kubectl apply` patches: if the PATCH operation of the GVK accepts
//    `application/strategic-merge-patch+json`, kubectl computes a strategic
//    merge patch from a components.schemas entry that carries the GVK
//    extension (as a list); if there is none, it falls back to its compiled-
//    in Go types.  So: the built-in kinds (v1, networking.k8s.io) accept SMP
//    and their schemas carry no GVK extension (kubectl uses its exact
//    built-in patch metadata); Calico kinds do not accept SMP (as CRDs), so
//    kubectl sends JSON merge patches for them.
#ifndef TW_API_OPENAPI_H_
#define TW_API_OPENAPI_H_

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tw::api {

// GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":
// "/openapi/v3/api/v1?hash=<hex>"}, "apis/networking.k8s.io/v1":{...},
// "apis/projectcalico.org/v3":{...}}}.  The hash changes whenever the
// group-version document changes (kubectl caches by URL).
boost::json::object OpenApiV3RootDoc();

// GET /openapi/v3/<api_path>, api_path as in the root doc ("api/v1",
// "apis/projectcalico.org/v3"; a leading '/' or "/openapi/v3/" and a
// "?hash=" suffix are ignored, so the serverRelativeURL works as is).
// An OpenAPI 3.0 document with paths for every kind of that group-version
// (list/create, get/replace/patch/delete, namespaced and all-namespaces
// forms, /status for kinds with status) and components.schemas from
// model::OpenApiV3Schema.  NotFound for an unknown path.
Result<boost::json::object> OpenApiV3Doc(std::string_view api_path);

// GET /openapi/v2 with a JSON Accept: Swagger 2.0 with the same paths and
// definitions (built-in kinds without GVK, as in v3).
boost::json::object OpenApiV2Doc();

// GET /openapi/v2 as kubectl asks for it (Accept: application/com.github.
// proto-openapi.spec.v2@v1.0+protobuf): answer 200 with this Content-Type
// and OpenApiV2ProtobufDoc() as the body.  kubectl uses the v2 document only
// for client-side validation of kinds the server does not serve (`create -f`
// of an apps/v1 Deployment): with an empty document it skips validation and
// reports `no matches for kind "Deployment" in version "apps/v1"`; with a
// 404 or 406 it fails with an unhelpful "error validating data" instead.
// (Go's mime parser rejects the '@' form kubectl sends in Accept, so the
// response must use the ".v1.0" spelling.)
inline constexpr std::string_view kOpenApiV2ProtobufContentType =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
// An empty gnostic openapi_v2.Document: zero bytes is its valid protobuf
// encoding.
std::string OpenApiV2ProtobufDoc();

}  // namespace tw::api

#endif  // TW_API_OPENAPI_H_
