// Compile: inputs -> Program (ir.h).  Deterministic: the same inputs give
// the same Program (set ids by first use in sorted policy order).  Pure.
#ifndef TW_POLICY_COMPILE_H_
#define TW_POLICY_COMPILE_H_

#include "policy/inputs.h"
#include "policy/ir.h"

namespace tw::policy {

// Tier order: (order asc, nullopt last, name asc); policies within a tier by
// (order asc, nullopt last, key asc), a staged policy just before its
// enforced twin.  A policy applies to an endpoint when applies_to matches
// the endpoint's labels; it governs a direction when that type is set.
Program Compile(const Inputs& inputs);

}  // namespace tw::policy

#endif  // TW_POLICY_COMPILE_H_
