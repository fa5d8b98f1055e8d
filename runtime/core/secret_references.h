#pragma once

#include <pipec/plan.pb.h>

#include <functional>
#include <string>

namespace pipec::runtime {

/// Reads an environment variable: its value, or nullptr when it is not set.
using EnvironmentLookup = std::function<const char*(const char*)>;

/// Replaces every `${NAME}` in the job's cluster settings and sink settings with the value of the environment
/// variable NAME. Compiled plans never hold secrets (a Redis password, SASL credentials): the environment config names
/// them as `${NAME}` or a Kubernetes secretKeyRef, the manifests mount the Secret as NAME, and the job reads it here
/// when it starts. Throws UserError naming the setting when a variable is not set.
void expandSecretReferences(plan::Job& job, const EnvironmentLookup& lookup);

/// `value` with its `${NAME}` references replaced through `lookup`; `what` names the setting in the error.
std::string expandReferences(const std::string& value, const std::string& what, const EnvironmentLookup& lookup);

} // namespace pipec::runtime
