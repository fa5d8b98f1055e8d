#include "compiler/spec/spec_loader.h"

#include "compiler/common/time_range.h"
#include "compiler/spec/scalar_positions.h"
#include "compiler/spec/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace pipec::spec {

namespace fs = std::filesystem;

namespace {

/// Kafka's limit for a topic name.
constexpr size_t kMaxTopicNameLength = 249;
/// A job's changelog topic is `<group>-<job>-changelog` with the default group `pipec-<job>`: 2 × 100 + 17 ≤ 249.
constexpr size_t kMaxJobNameLength = 100;

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

/// Advances `position` over a run of digits; false when there is none.
bool scanDigits(std::string_view text, size_t& position) {
    size_t start = position;
    while (position < text.size() && isDigit(text[position])) ++position;
    return position > start;
}

} // namespace

Duration parseDuration(std::string_view text) {
    Duration result;
    size_t position = 0;
    while (position < text.size() && isBlank(text[position])) ++position;
    size_t digitsStart = position;
    if (!scanDigits(text, position)) return result;
    result.number = std::string(text.substr(digitsStart, position - digitsStart));
    while (position < text.size() && isBlank(text[position])) ++position;
    size_t unitStart = position;
    while (position < text.size() && std::isalpha(static_cast<unsigned char>(text[position]))) ++position;
    std::string_view unit = text.substr(unitStart, position - unitStart);
    while (position < text.size() && isBlank(text[position])) ++position;
    if (position != text.size()) return result;
    bool zero = result.number.find_first_not_of('0') == std::string::npos;
    int64_t scale = 0;
    if (unit.empty()) {
        if (!zero) {
            result.status = Duration::Status::MissingUnit;
            return result;
        }
        scale = 1;
    } else {
        static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
            {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
        for (const auto& [name, milliseconds] : kUnits)
            if (unit == name) scale = milliseconds;
        if (scale == 0) return result;
    }
    int64_t count = 0;
    auto [end, status] = std::from_chars(result.number.data(), result.number.data() + result.number.size(), count);
    if (status != std::errc() || end != result.number.data() + result.number.size() ||
        __builtin_mul_overflow(count, scale, &result.milliseconds) || result.milliseconds > kMaxDurationMs) {
        result.status = Duration::Status::OutOfRange;
        result.milliseconds = 0;
        return result;
    }
    result.status = Duration::Status::Valid;
    return result;
}

bool validQuantity(std::string_view text, bool memory) {
    size_t position = 0;
    if (!scanDigits(text, position)) return false;
    if (!memory && position < text.size() && text[position] == 'm') return position + 1 == text.size();
    if (position < text.size() && text[position] == '.') {
        ++position;
        if (!scanDigits(text, position)) return false;
    }
    std::string_view suffix = text.substr(position);
    if (!memory || suffix.empty()) return suffix.empty();
    for (std::string_view unit : {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E"})
        if (suffix == unit) return true;
    return false;
}

namespace {

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

    /// Job and topic names become names that other systems restrict. A topic is a Kafka topic; a job is a folder of
    /// `pipec compile -o` (`OUT/JOB/plan.pb`) and part of its changelog topic `<group>-<job>-changelog`. Kafka allows
    /// ASCII letters, digits, `.`, `_` and `-`, at most 249 characters, and neither `.` nor `..`, the two names a folder
    /// cannot have either; no `/` either, so that a job cannot write outside the output folder.
    void requireKafkaName(const Located<std::string>& name, const char* what, size_t maxLength) {
        const std::string& text = name.value;
        auto allowed = [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; };
        size_t bad = 0;
        while (bad < text.size() && allowed(static_cast<unsigned char>(text[bad])) && text[bad] != 0) ++bad;
        std::string problem;
        if (text.empty())
            problem = "empty";
        else if (bad < text.size())
            problem = text[bad] == ' '                                    ? std::string("a space is not allowed")
                      : std::isprint(static_cast<unsigned char>(text[bad])) ? fmt::format("`{}` is not allowed", text[bad])
                                                                            : fmt::format("byte 0x{:02x} is not allowed", static_cast<unsigned char>(text[bad]));
        else if (text == "." || text == "..")
            problem = fmt::format("`{}` is not allowed", text);
        else if (text.size() > maxLength)
            problem = fmt::format("{} characters, more than {}", text.size(), maxLength);
        else
            return;
        auto& d = diagnostics_.error("E0117", name.location, fmt::format("invalid {} name", what));
        d.label = problem;
        d.help = fmt::format("use ASCII letters, digits, `_`, `-` and `.` (Kafka's topic-name characters), at most {} characters",
                             maxLength);
    }

    void loadSource(const YAML::Node& item, SpecFile& file) {
        Source source;
        source.location = reader_.locate(item);
        if (!reader_.checkMap(item, "a source", {"name", "type", "compute_spec"}, {"metadata_spec", "description"}, source.location)) return;
        if (auto name = reader_.string(item, "name")) {
            source.name = *name;
            requireKafkaName(*name, "job", kMaxJobNameLength);
        }
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
                if (size_t comment = restoreFoldedLineBreaks(source.sql); comment != std::string::npos) {
                    auto& d = diagnostics_.error("E0305", source.sql.locate(comment, 2),
                                                 "a `--` comment in a multi-line quoted string swallows the rest of the query");
                    d.label = "YAML joins the lines of a quoted string with spaces, so this comment runs to the end";
                    d.help = "write the query as a block scalar (`sql: |` or `sql: >-`), whose line breaks pipec keeps, or use /* … */";
                }
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
        kafka.exchange.value = "auto";
        if (!reader_.checkMap(item, "a kafka source", {"cluster", "topic", "proto_class"},
                              {"time_field", "watermark_delay", "format", "key_field", "exchange"}, kafka.location))
            return;
        if (auto value = reader_.string(item, "cluster")) kafka.cluster = *value;
        if (auto value = reader_.string(item, "topic")) {
            kafka.topic = *value;
            requireKafkaName(*value, "topic", kMaxTopicNameLength);
        }
        if (auto value = reader_.string(item, "proto_class")) kafka.protoClass = *value;
        if (auto value = reader_.string(item, "time_field")) kafka.timeField = *value;
        if (auto value = reader_.string(item, "format")) {
            kafka.format = *value;
            requireOneOf(*value, {"protobuf", "json"}, "format");
        }
        // key_field is checked against the message by the binder, which has it (E0208).
        if (auto value = reader_.string(item, "key_field")) kafka.keyField = *value;
        if (auto value = reader_.string(item, "exchange")) {
            kafka.exchange = *value;
            requireOneOf(*value, {"auto", "none"}, "exchange");
        }
        if (auto value = reader_.string(item, "watermark_delay")) {
            if (auto duration = readDuration(*value)) kafka.watermarkDelayMs = Located<int64_t>{*duration, value->location};
        }
        source.kafkaSources.push_back(std::move(kafka));
    }

    /// A duration value, or nothing after reporting why it is not one.
    std::optional<int64_t> readDuration(const Located<std::string>& value) {
        Duration duration = parseDuration(value.value);
        switch (duration.status) {
        case Duration::Status::Valid: return duration.milliseconds;
        case Duration::Status::MissingUnit: {
            auto& d = diagnostics_.error("E0114", value.location, fmt::format("duration `{}` has no unit", value.value));
            d.label = fmt::format("`{0}ms` or `{0}s`?", duration.number);
            d.help = fmt::format("write `{0}ms` for {0} milliseconds or `{0}s` for {0} seconds (units: ms, s, m, h, d)", duration.number);
            return std::nullopt;
        }
        case Duration::Status::OutOfRange: {
            auto& d = diagnostics_.error("E0115", value.location, fmt::format("duration `{}` is out of range", value.value));
            d.label = fmt::format("longer than {}", kMaxDurationText);
            d.help = "durations are limited to the runtime's event-time range, 2^60 ms";
            return std::nullopt;
        }
        case Duration::Status::Invalid: break;
        }
        auto& d = diagnostics_.error("E0108", value.location, fmt::format("invalid duration `{}`", value.value));
        d.label = "expected a whole number with ms, s, m, h or d, e.g. `1500ms` or `5s`";
        return std::nullopt;
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
                        if (reader_.checkUtf8(sinks, "sink")) feature.sinks.push_back(Located<std::string>{sinks.Scalar(), reader_.locate(sinks)});
                    } else if (checkList(sinks, "sink", materialize)) {
                        for (const auto& sink : sinks) {
                            if (sink.IsScalar()) {
                                if (reader_.checkUtf8(sink, "sink")) feature.sinks.push_back(Located<std::string>{sink.Scalar(), reader_.locate(sink)});
                            }
                            else diagnostics_.error("E0102", reader_.locate(sink), fmt::format("a sink must be a name, found {}", nodeKind(sink)));
                        }
                    }
                }
                auto ttl = reader_.integer(materialize, "feature_ttl");
                feature.featureTtlInvalid = materialize["feature_ttl"] && (!ttl || ttl->value < 0 || ttl->value > kMaxDurationMs / 1000);
                if (ttl) {
                    feature.featureTtlSeconds = *ttl;
                    if (ttl->value < 0) {
                        auto& d = diagnostics_.error("E0110", ttl->location, fmt::format("feature_ttl must not be negative, found {}", ttl->value));
                        d.label = "seconds until the feature value expires (0: never)";
                    } else if (ttl->value > kMaxDurationMs / 1000) {
                        auto& d = diagnostics_.error("E0115", ttl->location, fmt::format("feature_ttl {} s is out of range", ttl->value));
                        d.label = fmt::format("longer than {}", kMaxDurationText);
                        d.help = "durations are limited to the runtime's event-time range, 2^60 ms";
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
    // Spec tests (`NAME.test.yaml`, run by `pipec test`) usually sit beside their specs but are not specs.
    auto isSpecTest = [](const fs::path& path) {
        std::string name = path.filename().string();
        for (std::string_view suffix : {".test.yaml", ".test.yml"})
            if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
        return false;
    };
    for (const auto& input : inputs) {
        std::error_code error;
        if (fs::is_directory(input, error)) {
            std::vector<std::string> found;
            for (auto it = fs::recursive_directory_iterator(input, error); !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
                const fs::path& path = it->path();
                if (it->is_regular_file() && (path.extension() == ".yaml" || path.extension() == ".yml") && !isEnvironmentConfig(path) &&
                    !isSpecTest(path))
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

void checkReferences(const std::vector<SpecFile>& specs, DiagnosticEngine& diagnostics) {
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
        }
    }
}

void checkEnvironmentReferences(const std::vector<SpecFile>& specs, const Environment& environment, DiagnosticEngine& diagnostics) {
    for (const auto& spec : specs) {
        for (const auto& feature : spec.features) {
            for (const auto& sink : feature.sinks) {
                if (environment.sinks.count(sink.value)) continue;
                auto& d = diagnostics.error("E0106", sink.location, fmt::format("unknown sink `{}`", sink.value));
                std::vector<std::string> names;
                for (const auto& entry : environment.sinks) names.push_back(entry.first);
                std::string suggestion = closestMatch(sink.value, names);
                d.label = suggestion.empty() ? "not defined in the environment config" : fmt::format("did you mean `{}`?", suggestion);
            }
        }
        for (const auto& source : spec.sources) {
            for (const auto& kafka : source.kafkaSources) {
                if (kafka.cluster.value.empty() || environment.clusters.count(kafka.cluster.value)) continue;
                auto& d = diagnostics.error("E0107", kafka.cluster.location, fmt::format("unknown cluster `{}`", kafka.cluster.value));
                std::vector<std::string> names;
                for (const auto& entry : environment.clusters) names.push_back(entry.first);
                std::string suggestion = closestMatch(kafka.cluster.value, names);
                d.label = suggestion.empty() ? "not defined in the environment config" : fmt::format("did you mean `{}`?", suggestion);
            }
        }
    }
}

} // namespace pipec::spec
