#include "compiler/spec/spec_loader.h"

#include "compiler/spec/scalar_positions.h"
#include "compiler/spec/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace pipec::spec {

namespace fs = std::filesystem;

std::optional<int64_t> parseDuration(const std::string& text) {
    static const std::regex kPattern(R"(^\s*(\d{1,12})\s*(ms|s|m|h|d)?\s*$)");
    std::smatch match;
    if (!std::regex_match(text, match, kPattern)) return std::nullopt;
    int64_t value = std::stoll(match[1].str());
    std::string unit = match[2].str();
    int64_t scale = unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : unit == "d" ? 86'400'000 : 1;
    return value * scale;
}

namespace {

/// Kubernetes quantities as resource_config uses them: `2400m`, `2`, `0.5` for CPU; `1Gi`, `512Mi`, `1G` for memory.
bool validQuantity(const std::string& text, bool memory) {
    static const std::regex kCpu(R"(^(\d+(\.\d+)?|\d+m)$)");
    static const std::regex kMemory(R"(^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$)");
    return std::regex_match(text, memory ? kMemory : kCpu);
}

class SpecLoader {
public:
    SpecLoader(const std::string& path, const std::string& text, DiagnosticEngine& diagnostics)
        : reader_(path, text, diagnostics), diagnostics_(diagnostics) {}

    std::optional<SpecFile> load() {
        YAML::Node root;
        try {
            root = YAML::Load(reader_.text());
        } catch (const YAML::ParserException& error) {
            auto& d = diagnostics_.error("E0002", reader_.locate(error.mark), fmt::format("invalid YAML: {}", error.msg));
            d.label = "YAML syntax error here";
            return std::nullopt;
        }
        SpecFile file;
        file.path = reader_.path();
        SourceLocation fileLocation{reader_.path(), 1, 1, 1};
        if (!root || root.IsNull()) {
            auto& d = diagnostics_.error("E0112", fileLocation, "spec file is empty");
            d.help = "a spec defines `sources:` and/or `features:`";
            return file;
        }
        if (!reader_.checkMap(root, "the spec file", {}, {"sources", "features"}, fileLocation)) return file;
        if (!root["sources"] && !root["features"]) {
            auto& d = diagnostics_.error("E0112", reader_.locate(root), "spec file defines neither `sources` nor `features`");
            d.label = "expected `sources:` or `features:` at the top level";
        }
        if (YAML::Node sources = root["sources"]) {
            if (checkList(sources, "sources", root))
                for (const auto& item : sources) loadSource(item, file);
        }
        if (YAML::Node features = root["features"]) {
            if (checkList(features, "features", root))
                for (const auto& item : features) loadFeature(item, file);
        }
        return file;
    }

private:
    bool checkList(const YAML::Node& node, const char* key, const YAML::Node& parent) {
        if (node.IsSequence()) return true;
        auto& d = diagnostics_.error("E0102", node.IsNull() ? reader_.keyLocation(parent, key) : reader_.locate(node),
                                     fmt::format("`{}` must be a list, found {}", key, nodeKind(node)));
        d.label = "expected `- ` list items";
        return false;
    }

    void requireOneOf(const Located<std::string>& value, std::initializer_list<const char*> allowed, const char* key) {
        for (const char* candidate : allowed)
            if (value.value == candidate) return;
        auto& d = diagnostics_.error("E0109", value.location, fmt::format("invalid `{}` value `{}`", key, value.value));
        std::vector<std::string> names(allowed.begin(), allowed.end());
        std::string suggestion = closestMatch(value.value, names);
        d.label = suggestion.empty() ? fmt::format("expected {}", fmt::join(names, " or ")) : fmt::format("did you mean `{}`?", suggestion);
    }

    void loadSource(const YAML::Node& item, SpecFile& file) {
        Source source;
        source.location = reader_.locate(item);
        if (!reader_.checkMap(item, "a source", {"name", "type", "compute_spec"}, {"metadata_spec", "description"}, source.location)) return;
        if (auto name = reader_.string(item, "name")) source.name = *name;
        if (auto type = reader_.string(item, "type")) {
            source.type = *type;
            requireOneOf(*type, {"REALTIME"}, "type");
        }
        YAML::Node compute = item["compute_spec"];
        if (compute) {
            SourceLocation owner = reader_.keyLocation(item, "compute_spec");
            if (reader_.checkMap(compute, "compute_spec", {"type", "riviera_spec"}, {}, owner)) {
                if (auto type = reader_.string(compute, "type")) {
                    source.computeType = *type;
                    requireOneOf(*type, {"RIVIERA"}, "compute_spec.type");
                }
                if (YAML::Node riviera = compute["riviera_spec"])
                    loadRiviera(riviera, reader_.keyLocation(compute, "riviera_spec"), source);
            }
        }
        if (YAML::Node metadata = item["metadata_spec"])
            reader_.checkMap(metadata, "metadata_spec", {}, {"description", "owner", "tags"}, reader_.keyLocation(item, "metadata_spec"));
        file.sources.push_back(std::move(source));
    }

    void loadRiviera(const YAML::Node& riviera, const SourceLocation& owner, Source& source) {
        if (!reader_.checkMap(riviera, "riviera_spec", {"kafka_sources", "sql"}, {"resource_config"}, owner)) return;
        if (YAML::Node kafkaSources = riviera["kafka_sources"]) {
            if (checkList(kafkaSources, "kafka_sources", riviera)) {
                if (kafkaSources.size() == 0) {
                    auto& d = diagnostics_.error("E0103", reader_.keyLocation(riviera, "kafka_sources"), "`kafka_sources` is empty");
                    d.label = "a source reads exactly one kafka topic";
                }
                for (const auto& kafkaItem : kafkaSources) loadKafkaSource(kafkaItem, source);
                if (kafkaSources.size() > 1) {
                    auto& d = diagnostics_.error("E0113", reader_.locate(kafkaSources[1]), "multiple kafka_sources are not supported yet");
                    d.label = "a second kafka source";
                    d.help = "split the job into one source per topic";
                }
            }
        }
        if (YAML::Node sql = riviera["sql"]) {
            if (!sql.IsScalar() || sql.Scalar().find_first_not_of(" \t\r\n") == std::string::npos) {
                auto& d = diagnostics_.error("E0102", sql.IsScalar() ? reader_.locate(sql) : reader_.keyLocation(riviera, "sql"),
                                             sql.IsScalar() || sql.IsNull() ? "`sql` is empty" : fmt::format("`sql` must be a string, found {}", nodeKind(sql)));
                d.label = "expected the streaming SQL query";
            } else {
                source.sql = mapScalarPositions(reader_.path(), reader_.text(), static_cast<size_t>(std::max(0, sql.Mark().pos)),
                                                sql.Scalar(), reader_.locate(sql));
            }
        }
        source.resources.numberTaskManager.value = 1;
        source.resources.memory.value = "1Gi";
        source.resources.cpu.value = "1000m";
        if (YAML::Node resources = riviera["resource_config"]) {
            source.resources.location = reader_.locate(resources);
            if (reader_.checkMap(resources, "resource_config", {}, {"number_task_manager", "memory", "cpu"}, reader_.keyLocation(riviera, "resource_config"))) {
                if (auto count = reader_.integer(resources, "number_task_manager")) {
                    source.resources.numberTaskManager = *count;
                    if (count->value < 1 || count->value > 1024) {
                        auto& d = diagnostics_.error("E0110", count->location, fmt::format("number_task_manager must be between 1 and 1024, found {}", count->value));
                        d.label = "invalid parallelism";
                    }
                }
                for (const char* key : {"memory", "cpu"}) {
                    if (auto quantity = reader_.string(resources, key)) {
                        bool memory = std::string(key) == "memory";
                        (memory ? source.resources.memory : source.resources.cpu) = *quantity;
                        if (!validQuantity(quantity->value, memory)) {
                            auto& d = diagnostics_.error("E0110", quantity->location, fmt::format("invalid {} quantity `{}`", key, quantity->value));
                            d.label = memory ? "expected a Kubernetes memory quantity, e.g. \"1Gi\" or \"512Mi\""
                                             : "expected a Kubernetes CPU quantity, e.g. \"2400m\" or \"2\"";
                        }
                    }
                }
            }
        }
    }

    void loadKafkaSource(const YAML::Node& item, Source& source) {
        KafkaSource kafka;
        kafka.location = reader_.locate(item);
        kafka.format.value = "protobuf";
        if (!reader_.checkMap(item, "a kafka source", {"cluster", "topic", "proto_class"}, {"time_field", "watermark_delay", "format"}, kafka.location))
            return;
        if (auto value = reader_.string(item, "cluster")) kafka.cluster = *value;
        if (auto value = reader_.string(item, "topic")) kafka.topic = *value;
        if (auto value = reader_.string(item, "proto_class")) kafka.protoClass = *value;
        if (auto value = reader_.string(item, "time_field")) kafka.timeField = *value;
        if (auto value = reader_.string(item, "format")) {
            kafka.format = *value;
            requireOneOf(*value, {"protobuf", "json"}, "format");
        }
        if (auto value = reader_.string(item, "watermark_delay")) {
            kafka.watermarkDelayMs.location = value->location;
            if (auto duration = parseDuration(value->value)) {
                kafka.watermarkDelayMs.value = *duration;
            } else {
                auto& d = diagnostics_.error("E0108", value->location, fmt::format("invalid duration `{}`", value->value));
                d.label = "expected a whole number with ms, s, m, h or d, e.g. `1500ms` or `5s`";
            }
        }
        source.kafkaSources.push_back(std::move(kafka));
    }

    void loadFeature(const YAML::Node& item, SpecFile& file) {
        Feature feature;
        feature.location = reader_.locate(item);
        if (!reader_.checkMap(item, "a feature", {"name", "source", "materialize_spec"}, {"column", "metadata_spec"}, feature.location)) return;
        if (auto value = reader_.string(item, "name")) feature.name = *value;
        if (auto value = reader_.string(item, "source")) feature.source = *value;
        if (auto value = reader_.string(item, "column")) feature.column = *value;
        if (YAML::Node materialize = item["materialize_spec"]) {
            if (reader_.checkMap(materialize, "materialize_spec", {"sink", "feature_ttl"}, {}, reader_.keyLocation(item, "materialize_spec"))) {
                if (YAML::Node sinks = materialize["sink"]) {
                    if (sinks.IsScalar()) {
                        feature.sinks.push_back(Located<std::string>{sinks.Scalar(), reader_.locate(sinks)});
                    } else if (checkList(sinks, "sink", materialize)) {
                        for (const auto& sink : sinks) {
                            if (sink.IsScalar()) feature.sinks.push_back(Located<std::string>{sink.Scalar(), reader_.locate(sink)});
                            else diagnostics_.error("E0102", reader_.locate(sink), fmt::format("a sink must be a name, found {}", nodeKind(sink)));
                        }
                    }
                }
                if (auto ttl = reader_.integer(materialize, "feature_ttl")) {
                    feature.featureTtlSeconds = *ttl;
                    if (ttl->value <= 0) {
                        auto& d = diagnostics_.error("E0110", ttl->location, fmt::format("feature_ttl must be positive, found {}", ttl->value));
                        d.label = "seconds until the feature value expires";
                    }
                }
            }
        }
        if (YAML::Node metadata = item["metadata_spec"]) {
            if (reader_.checkMap(metadata, "metadata_spec", {}, {"description", "owner", "tags"}, reader_.keyLocation(item, "metadata_spec"))) {
                if (auto description = reader_.string(metadata, "description")) feature.description = description->value;
            }
        }
        file.features.push_back(std::move(feature));
    }

    YamlReader reader_;
    DiagnosticEngine& diagnostics_;
};

} // namespace

std::optional<SpecFile> loadSpecText(const std::string& path, std::string text, SourceManager& sources, DiagnosticEngine& diagnostics) {
    sources.addFile(path, text);
    const std::string& stored = *sources.text(path);
    SpecLoader loader(path, stored, diagnostics);
    return loader.load();
}

std::optional<SpecFile> loadSpecFile(const std::string& path, SourceManager& sources, DiagnosticEngine& diagnostics) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diagnostics.error("E0001", SourceLocation{path, 0, 0, 1}, fmt::format("cannot read spec file `{}`", path));
        return std::nullopt;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return loadSpecText(path, buffer.str(), sources, diagnostics);
}

std::vector<std::string> collectSpecPaths(const std::vector<std::string>& inputs, DiagnosticEngine& diagnostics) {
    std::vector<std::string> paths;
    auto isEnvironmentConfig = [](const fs::path& path) {
        return path.filename() == "pipec.yaml" || path.filename() == "pipec.yml";
    };
    for (const auto& input : inputs) {
        std::error_code error;
        if (fs::is_directory(input, error)) {
            std::vector<std::string> found;
            for (auto it = fs::recursive_directory_iterator(input, error); !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
                const fs::path& path = it->path();
                if (it->is_regular_file() && (path.extension() == ".yaml" || path.extension() == ".yml") && !isEnvironmentConfig(path))
                    found.push_back(path.string());
            }
            std::sort(found.begin(), found.end());
            paths.insert(paths.end(), found.begin(), found.end());
        } else if (fs::exists(input, error)) {
            paths.push_back(input);
        } else {
            diagnostics.error("E0001", SourceLocation{input, 0, 0, 1}, fmt::format("no such file or directory `{}`", input));
        }
    }
    return paths;
}

void checkReferences(const std::vector<SpecFile>& specs, const Environment* environment, DiagnosticEngine& diagnostics) {
    std::map<std::string, SourceLocation> sources, features;
    std::vector<std::string> sourceNames;
    for (const auto& spec : specs) {
        for (const auto& source : spec.sources) {
            if (source.name.value.empty()) continue;
            auto [it, inserted] = sources.emplace(source.name.value, source.name.location);
            if (!inserted) {
                auto& d = diagnostics.error("E0104", source.name.location, fmt::format("duplicate source name `{}`", source.name.value));
                d.label = "job names must be unique";
                d.notes.push_back(fmt::format("first defined at {}:{}:{}", it->second.file, it->second.line, it->second.column));
            } else {
                sourceNames.push_back(source.name.value);
            }
        }
    }
    for (const auto& spec : specs) {
        for (const auto& feature : spec.features) {
            if (!feature.name.value.empty()) {
                auto [it, inserted] = features.emplace(feature.name.value, feature.name.location);
                if (!inserted) {
                    auto& d = diagnostics.error("E0104", feature.name.location, fmt::format("duplicate feature name `{}`", feature.name.value));
                    d.label = "feature names must be unique";
                    d.notes.push_back(fmt::format("first defined at {}:{}:{}", it->second.file, it->second.line, it->second.column));
                }
            }
            if (!feature.source.value.empty() && !sources.count(feature.source.value)) {
                auto& d = diagnostics.error("E0105", feature.source.location, fmt::format("feature `{}` names unknown source `{}`",
                                                                                          feature.name.value, feature.source.value));
                std::string suggestion = closestMatch(feature.source.value, sourceNames);
                d.label = suggestion.empty() ? "no source job has this name" : fmt::format("did you mean `{}`?", suggestion);
            }
            if (!environment) continue;
            for (const auto& sink : feature.sinks) {
                if (environment->sinks.count(sink.value)) continue;
                auto& d = diagnostics.error("E0106", sink.location, fmt::format("unknown sink `{}` in environment `{}`", sink.value, environment->name));
                std::vector<std::string> names;
                for (const auto& entry : environment->sinks) names.push_back(entry.first);
                std::string suggestion = closestMatch(sink.value, names);
                d.label = suggestion.empty() ? "not defined in the environment config" : fmt::format("did you mean `{}`?", suggestion);
            }
        }
        if (!environment) continue;
        for (const auto& source : spec.sources) {
            for (const auto& kafka : source.kafkaSources) {
                if (kafka.cluster.value.empty() || environment->clusters.count(kafka.cluster.value)) continue;
                auto& d = diagnostics.error("E0107", kafka.cluster.location,
                                            fmt::format("unknown cluster `{}` in environment `{}`", kafka.cluster.value, environment->name));
                std::vector<std::string> names;
                for (const auto& entry : environment->clusters) names.push_back(entry.first);
                std::string suggestion = closestMatch(kafka.cluster.value, names);
                d.label = suggestion.empty() ? "not defined in the environment config" : fmt::format("did you mean `{}`?", suggestion);
            }
        }
    }
}

} // namespace pipec::spec
