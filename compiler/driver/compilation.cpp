#include "compiler/driver/compilation.h"

#include "compiler/lint/job_lints.h"
#include "compiler/lower/lower.h"
#include "compiler/optimize/optimizer.h"
#include "compiler/plan/binder.h"
#include "compiler/spec/environment.h"
#include "compiler/spec/spec_loader.h"
#include "compiler/sql/sql_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace pipec::driver {

namespace {

namespace fs = std::filesystem;

/// Resolves which output column each feature materializes (SPEC-FORMAT.md: `column:`, else the feature's name,
/// else the only non-key column).
void bindFeatures(Compilation& compilation, CompiledJob& job) {
    for (const auto& specFile : compilation.specs) {
        for (const auto& feature : specFile.features) {
            if (feature.source.value != job.source.name.value) continue;
            const auto& outputs = job.optimizedPlan.outputs;
            FeatureBinding binding;
            binding.name = feature.name.value;
            binding.ttlSeconds = feature.featureTtlSeconds.value;
            binding.description = feature.description;
            for (const auto& sink : feature.sinks) binding.sinks.push_back(sink.value);
            std::vector<std::string> valueColumns, allColumns;
            for (const auto& output : outputs) {
                allColumns.push_back(output.name);
                if (output.isKey) binding.keyColumns.push_back(output.name);
                else valueColumns.push_back(output.name);
            }
            auto has = [&](const std::string& name) { return std::find(allColumns.begin(), allColumns.end(), name) != allColumns.end(); };
            if (feature.column) {
                if (!has(feature.column->value)) {
                    auto& d = compilation.diagnostics.error("E0501", feature.column->location,
                                                            fmt::format("source `{}` has no output column `{}`", job.source.name.value, feature.column->value));
                    auto suggestion = closestMatch(feature.column->value, allColumns);
                    d.label = suggestion.empty() ? "not an output column" : fmt::format("did you mean `{}`?", suggestion);
                    d.notes.push_back(fmt::format("its columns are: {}", fmt::join(allColumns, ", ")));
                    continue;
                }
                binding.column = feature.column->value;
            } else if (has(binding.name)) {
                binding.column = binding.name;
            } else if (valueColumns.size() == 1) {
                binding.column = valueColumns.front();
            } else {
                auto& d = compilation.diagnostics.error(
                    "E0502", feature.name.location,
                    valueColumns.empty() ? fmt::format("source `{}` has no value column for feature `{}`", job.source.name.value, binding.name)
                                         : fmt::format("feature `{}` is ambiguous: source `{}` has {} value columns", binding.name,
                                                       job.source.name.value, valueColumns.size()));
                d.label = "no column named like the feature";
                d.help = valueColumns.empty() ? "select a value besides the keys"
                                              : fmt::format("add `column:` with one of: {}", fmt::join(valueColumns, ", "));
                continue;
            }
            if (std::find(binding.keyColumns.begin(), binding.keyColumns.end(), binding.column) != binding.keyColumns.end()) {
                auto& d = compilation.diagnostics.error("E0504", feature.column ? feature.column->location : feature.name.location,
                                                        fmt::format("feature `{}` materializes the key column `{}`", binding.name, binding.column));
                d.label = "a feature's value must not be its entity key";
                continue;
            }
            if (binding.keyColumns.empty()) {
                auto& d = compilation.diagnostics.error("E0503", feature.name.location,
                                                        fmt::format("feature `{}` has no entity key: source `{}` selects no GROUP BY key",
                                                                    binding.name, job.source.name.value));
                d.label = "features are stored per entity key";
                d.help = "group by the entity (e.g. `GROUP BY HOP(...), store_id`) and select the key column";
                continue;
            }
            job.features.push_back(std::move(binding));
        }
    }
}

/// librdkafka properties of the environment's clusters and Kafka sinks that the Kafka client would refuse when the job
/// starts (an unknown name, a value of the wrong kind): reported now, where they were written.
void checkKafkaProperties(const spec::Environment& environment, const CompileOptions& options, DiagnosticEngine& diagnostics) {
    auto check = [&](const std::string& owner, const std::map<std::string, std::string>& properties,
                     const std::map<std::string, SourceLocation>& locations, std::initializer_list<const char*> pipecKeys) {
        for (const auto& [name, value] : properties) {
            if (std::find(pipecKeys.begin(), pipecKeys.end(), name) != pipecKeys.end()) continue;
            std::optional<std::string> error = options.checkKafkaProperty(name, value);
            if (!error) continue;
            auto location = locations.find(name);
            auto& d = diagnostics.error("E0122", location != locations.end() ? location->second : SourceLocation{},
                                        fmt::format("invalid Kafka property `{}` of {}: {}", name, owner, *error));
            d.label = "refused by the Kafka client (librdkafka)";
            if (location == locations.end()) d.notes.push_back("set through --set");
        }
    };
    for (const auto& [name, cluster] : environment.clusters)
        check(fmt::format("cluster `{}`", name), cluster.properties, cluster.propertyLocations, {});
    for (const auto& [name, sink] : environment.sinks)
        if (sink.type == "kafka")
            check(fmt::format("Kafka sink `{}`", name), sink.properties, sink.propertyLocations, {"topic", "bootstrap_servers"});
}

/// The environments to check: the one asked for, or with `all` (or nothing asked, and several defined) every one.
std::vector<std::string> environmentsToCheck(const CompileOptions& options, const std::string& environmentFile) {
    if (!options.environmentName.empty() && options.environmentName != "all") return {options.environmentName};
    std::vector<std::string> names = environmentFile.empty() ? std::vector<std::string>{} : spec::environmentNames(environmentFile);
    if (options.environmentName == "all") return names.empty() ? std::vector<std::string>{"local"} : names;
    return names.size() > 1 ? names : std::vector<std::string>{"local"};
}

/// Loads each environment and checks what depends on it: the sinks and clusters the specs name, and the Kafka
/// properties. A problem found in several environments is reported once, naming them.
void checkEnvironments(const CompileOptions& options, Compilation& compilation) {
    for (const auto& name : environmentsToCheck(options, compilation.environmentFile)) {
        DiagnosticEngine found;
        std::optional<spec::Environment> environment =
            compilation.environmentFile.empty()
                ? spec::defaultEnvironment(name, found)
                : spec::loadEnvironment(compilation.environmentFile, name, options.overrides, compilation.sources, found);
        if (environment) {
            spec::checkEnvironmentReferences(compilation.specs, *environment, found);
            if (options.checkKafkaProperty) checkKafkaProperties(*environment, options, found);
        }
        for (const auto& diagnostic : found.all()) compilation.diagnostics.addForEnvironment(diagnostic, name);
        compilation.environmentNames.push_back(name);
        if (!compilation.environment && environment) compilation.environment = std::move(environment);
    }
}

} // namespace

std::string findSchemaDirectory(const std::string& specPath) {
    std::error_code error;
    fs::path directory = fs::absolute(fs::path(specPath), error).parent_path();
    for (int depth = 0; depth < 32 && !directory.empty(); ++depth) {
        if (fs::is_directory(directory / "schemas", error)) return (directory / "schemas").string();
        if (directory == directory.parent_path()) break;
        directory = directory.parent_path();
    }
    return {};
}

void compile(const std::vector<std::string>& inputs, const CompileOptions& options, Compilation& compilation) {
    DiagnosticEngine& diagnostics = compilation.diagnostics;

    // 1. Specs and the environment they resolve names in.
    std::vector<std::string> paths = spec::collectSpecPaths(inputs, diagnostics);
    for (const auto& path : paths) {
        if (auto specFile = spec::loadSpecFile(path, compilation.sources, diagnostics)) compilation.specs.push_back(std::move(*specFile));
    }
    compilation.environmentFile = options.environmentFile;
    if (compilation.environmentFile.empty() && !paths.empty()) compilation.environmentFile = spec::findEnvironmentFile(paths.front());
    spec::checkReferences(compilation.specs, diagnostics);
    checkEnvironments(options, compilation);

    // 2. The Protobuf catalog.
    std::vector<std::string> protoPaths = options.protoPaths;
    if (!paths.empty() && options.searchNearestSchemas) {
        std::string schemas = findSchemaDirectory(paths.front());
        if (!schemas.empty() && std::find(protoPaths.begin(), protoPaths.end(), schemas) == protoPaths.end()) protoPaths.push_back(schemas);
    }
    compilation.catalog = catalog::Catalog::load(protoPaths, compilation.sources, diagnostics);

    // 3. Each source job: SQL → AST → bound plan → optimized plan → physical pipeline.
    for (const auto& specFile : compilation.specs) {
        for (const auto& source : specFile.sources) {
            // A source missing its topic, message or SQL was reported by the spec loader; there is nothing to bind.
            if (source.kafkaSources.empty() || source.sql.text.empty() || source.kafkaSources.front().protoClass.value.empty() ||
                source.kafkaSources.front().topic.value.empty())
                continue;
            CompiledJob job;
            job.specPath = specFile.path;
            job.source = source;
            const spec::SqlText& sqlText = job.source.sql;
            sql::SqlLocator locate = [&sqlText](size_t offset, size_t length) { return sqlText.locate(offset, length); };

            auto schema = compilation.catalog ? compilation.catalog->resolve(source.kafkaSources.front().protoClass.value,
                                                                             source.kafkaSources.front().protoClass.location, diagnostics)
                                              : std::nullopt;
            auto query = sql::parseQuery(sqlText.text, locate, diagnostics);
            if (!schema || !query) continue;
            auto bound = logical::bindQuery(job.source, *schema, *query, locate, diagnostics);
            if (!bound) continue;
            std::vector<const spec::Feature*> features;
            for (const auto& file : compilation.specs)
                for (const auto& feature : file.features)
                    if (feature.source.value == source.name.value) features.push_back(&feature);
            lint::lintJob(job.source, *bound, features, locate, diagnostics);
            if (options.keepStages) {
                job.ast = std::move(query);
                job.logicalPlan = logical::clonePlan(*bound);
            }
            job.optimizedPlan = std::move(*bound);
            optimize::optimize(job.optimizedPlan, options.disabledPasses);
            job.pipeline = lower::lowerPlan(job.optimizedPlan, options.disabledPasses);
            bindFeatures(compilation, job);
            compilation.jobs.push_back(std::move(job));
        }
    }
    diagnostics.sort();
}

void noteExchanges(Compilation& compilation) {
    // Errors first: the notes are for specs that compile, and would only hide what has to be fixed.
    if (compilation.diagnostics.hasErrors()) return;
    for (const auto& job : compilation.jobs) {
        if (!job.pipeline.has_exchange()) continue;
        const spec::KafkaSource& kafka = job.source.kafkaSources.front();
        auto& d = compilation.diagnostics.note("N0406", kafka.keyField ? kafka.keyField->location : kafka.topic.location,
                                               fmt::format("job `{}` needs a repartition exchange: {}", job.source.name.value,
                                                           job.pipeline.exchange().reason()));
        d.brief = true;
    }
    compilation.diagnostics.sort();
}

plan::Job buildJob(const Compilation& compilation, const CompiledJob& job) {
    plan::Job result;
    result.set_name(job.source.name.value);
    result.set_spec_file(job.specPath);
    result.set_parallelism(static_cast<int32_t>(job.source.resources.numberTaskManager.value));
    *result.mutable_pipeline() = job.pipeline;
    if (compilation.environment) {
        const spec::Environment& environment = *compilation.environment;
        result.set_environment(environment.name);
        if (auto cluster = environment.clusters.find(job.pipeline.source().cluster()); cluster != environment.clusters.end()) {
            (*result.mutable_cluster_properties())["bootstrap.servers"] = cluster->second.bootstrapServers;
            for (const auto& [key, value] : cluster->second.properties) (*result.mutable_cluster_properties())[key] = value;
        }
        for (const auto& feature : job.features) {
            for (const auto& sinkName : feature.sinks) {
                plan::Sink* sink = result.add_sinks();
                sink->set_name(sinkName);
                sink->set_feature_name(feature.name);
                sink->set_column(feature.column);
                sink->set_ttl_seconds(feature.ttlSeconds);
                if (auto config = environment.sinks.find(sinkName); config != environment.sinks.end()) {
                    sink->set_type(config->second.type);
                    for (const auto& [key, value] : config->second.properties) (*sink->mutable_properties())[key] = value;
                }
            }
        }
    }
    return result;
}

} // namespace pipec::driver
