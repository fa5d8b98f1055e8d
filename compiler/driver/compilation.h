#pragma once

#include "compiler/catalog/catalog.h"
#include "compiler/common/diagnostics.h"
#include "compiler/plan/logical_plan.h"
#include "compiler/spec/spec_model.h"
#include "compiler/sql/ast.h"

#include <pipec/plan.pb.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pipec::driver {

struct CompileOptions {
    std::vector<std::string> protoPaths;        // extra .proto directories
    /// Also load the nearest `schemas/` directory at or above the first spec. Off for `pipec schema check`, which
    /// compiles the same specs against two schema trees in turn.
    bool searchNearestSchemas = true;
    std::set<std::string> disabledPasses;
    /// An environment (section) of the environment config; `all`: every one (validate only); empty: every one when
    /// the config defines several, else `local`.
    std::string environmentName = "local";
    std::string environmentFile;                 // empty: the nearest pipec.yaml, else the embedded defaults
    std::vector<std::string> overrides;          // --set key=value
    bool keepStages = false;                     // keep the AST and the unoptimized plan (for explain)
    /// Checks one librdkafka property (name and value) of the environment's clusters and Kafka sinks: an error text,
    /// or nothing when it is accepted. Unset: not checked (the compiler itself does not link the Kafka client).
    std::function<std::optional<std::string>(const std::string& name, const std::string& value)> checkKafkaProperty;
};

/// A feature materialized from one output column of its source job.
struct FeatureBinding {
    std::string name;
    std::string column;
    std::vector<std::string> keyColumns;
    std::vector<std::string> sinks;
    int64_t ttlSeconds = 0;
    std::string description;
};

/// One source job carried through every stage.
struct CompiledJob {
    std::string specPath;
    spec::Source source;
    std::optional<sql::Query> ast;
    std::optional<logical::LogicalPlan> logicalPlan;    // before optimization (with keepStages)
    logical::LogicalPlan optimizedPlan;
    plan::Pipeline pipeline;
    std::vector<FeatureBinding> features;
};

/// Everything one compiler run produced: diagnostics, the loaded specs and environment, and the jobs that
/// compiled cleanly.
struct Compilation {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::vector<spec::SpecFile> specs;
    std::optional<spec::Environment> environment;   // the first environment checked: the one artifacts are built for
    std::vector<std::string> environmentNames;      // every environment checked
    std::string environmentFile;
    std::unique_ptr<catalog::Catalog> catalog;
    std::vector<CompiledJob> jobs;
};

/// The nearest `schemas/` directory at or above `specPath` (empty when there is none): specs find their .proto
/// files there by default.
std::string findSchemaDirectory(const std::string& specPath);

/// The whole compilation, top to bottom: spec → SQL → bind → optimize → lower → features.
void compile(const std::vector<std::string>& inputs, const CompileOptions& options, Compilation& compilation);

/// One note (N0406) per compiled job with a repartition exchange, saying why it has one, at the source's `key_field`
/// (or `topic` when it has none), when the compilation has no errors. `pipec validate` reports them; the other
/// commands do not.
void noteExchanges(Compilation& compilation);

/// Builds the deployable job (pipeline + resolved sinks + cluster settings) for one compiled job.
plan::Job buildJob(const Compilation& compilation, const CompiledJob& job);

} // namespace pipec::driver
