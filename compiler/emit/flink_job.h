#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/emit/kubernetes_manifests.h"

#include <string>

namespace pipec::emit {

/// The job as Flink SQL (`job.sql`): the session settings (UTC), the Kafka table with the protobuf or json format and a
/// WATERMARK, the source view that gives every field the spec's type, the query as a view, one sink table per
/// materialized feature and sink, and one statement set with their INSERTs. What Flink does differently is reported
/// as W0601/W0603 warnings at the spec location it concerns.
std::string flinkSql(const driver::Compilation& compilation, const driver::CompiledJob& job, DiagnosticEngine& diagnostics);

} // namespace pipec::emit
