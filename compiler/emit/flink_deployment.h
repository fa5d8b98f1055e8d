#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/emit/kubernetes_manifests.h"

#include <string>
#include <vector>

namespace pipec::emit {

/// Whether the environment names the checkpoint and savepoint directories the FlinkDeployment needs; E0603 if not.
bool checkFlinkStateDirectories(const driver::Compilation& compilation, const driver::CompiledJob& job, DiagnosticEngine& diagnostics);

/// The Kubernetes objects of the Flink target: a ConfigMap holding `sql` (the job's `job.sql`) and a FlinkDeployment
/// for the Flink Kubernetes Operator that runs it with the SQL runner, its secrets mounted as environment variables.
/// The checkpoint and savepoint directories come from the environment's `flink:` section (checked before).
std::vector<YamlNode> flinkDeployment(const driver::Compilation& compilation, const driver::CompiledJob& job, const std::string& sql,
                                      const DeploymentSettings& settings, DiagnosticEngine& diagnostics);

} // namespace pipec::emit
