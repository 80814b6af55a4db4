// Discovery documents (GET /api, /apis, /api/v1, /apis/G/V, /version), built
// from model::AllKinds().  Pure: the same documents every call.
//
// They are what kubectl's legacy (unaggregated) discovery reads; the server
// must answer them with `Content-Type: application/json` (no
// `g=apidiscovery.k8s.io` parameters) so that kubectl does not mistake them
// for aggregated discovery.
#ifndef TW_API_DISCOVERY_H_
#define TW_API_DISCOVERY_H_

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::api {

// The verbs every served resource supports.  deletecollection is not among
// them: the server does not implement it.
const std::vector<std::string>& ResourceVerbs();

// GET /api: {"kind":"APIVersions","versions":["v1"],
//            "serverAddressByClientCIDRs":[...]}.
boost::json::object ApiVersionsDoc();

// GET /apis: APIGroupList with networking.k8s.io first, then
// projectcalico.org; each group with its versions and preferredVersion.
// The core group ("") is not listed (Kubernetes lists it under /api).
boost::json::object ApiGroupListDoc();

// GET /api/v1 (group "") or /apis/G/V: APIResourceList with one entry per
// kind (name, singularName, namespaced, kind, verbs, shortNames,
// storageVersionHash omitted) and a `PLURAL/status` entry (verbs get, patch,
// update) for kinds with a status subresource.  NotFound for a group/version
// we do not serve.
Result<boost::json::object> ApiResourceListDoc(std::string_view group, std::string_view version);

// GET /version: {"major":"1","minor":"32","gitVersion":"v0.1.0-threatwall",
// "gitCommit","gitTreeState","buildDate","goVersion","compiler","platform"}.
// major/minor claim Kubernetes 1.32 so that kubectl does not warn about
// version skew.
boost::json::object VersionDoc();

}  // namespace tw::api

#endif  // TW_API_DISCOVERY_H_
