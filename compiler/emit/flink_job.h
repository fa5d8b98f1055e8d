#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/emit/kubernetes_manifests.h"

#include <string>

namespace pipec::emit {

/// The job as Flink SQL (`job.sql`): the Kafka source table with the protobuf format and a WATERMARK, one sink
/// table per materialized feature, and the INSERT statements. What Flink SQL cannot express the same way is
/// reported as W0601 warnings at the spec location it concerns.
std::string flinkSql(const driver::Compilation& compilation, const driver::CompiledJob& job, DiagnosticEngine& diagnostics);

/// A FlinkDeployment resource for the Flink Kubernetes Operator running `job.sql`.
YamlNode flinkDeployment(const driver::CompiledJob& job, const DeploymentSettings& settings);

} // namespace pipec::emit
