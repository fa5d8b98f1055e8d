#pragma once

#include "compiler/common/source_location.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pipec::spec {

/// A scalar value from the YAML file with the place it was written.
template <typename T>
struct Located {
    T value{};
    SourceLocation location;
};

struct KafkaSource {
    Located<std::string> cluster;
    Located<std::string> topic;
    Located<std::string> protoClass;
    std::optional<Located<std::string>> timeField;   // empty: the envelope's creation time
    Located<int64_t> watermarkDelayMs;                // default 0; a location only when written and valid
    Located<std::string> format;                      // "protobuf" (default) or "json"
    std::optional<Located<std::string>> keyField;    // the payload field the topic is keyed by; empty: unknown
    Located<std::string> exchange;                    // "auto" (default: repartition when needed) or "none"
    SourceLocation location;                          // the list item
};

struct ResourceConfig {
    Located<int64_t> numberTaskManager;  // default 1
    Located<std::string> memory;         // Kubernetes quantity, e.g. "1Gi"
    Located<std::string> cpu;            // Kubernetes quantity, e.g. "2400m"
    SourceLocation location;
};

/// The embedded SQL text and how to map offsets inside it back to the YAML file.
struct SqlText {
    std::string text;
    /// For each byte offset of `text` (and one past its end), the file position it came from.
    std::vector<SourceLocation> offsetLocations;
    SourceLocation location;  // the `sql:` value

    /// The file location of byte `offset` in `text`, with the underline length `length`
    /// (clipped so that it does not run past the end of the file line).
    SourceLocation locate(size_t offset, size_t length = 1) const;
};

struct Source {
    Located<std::string> name;
    Located<std::string> type;          // REALTIME
    Located<std::string> computeType;   // RIVIERA
    std::vector<KafkaSource> kafkaSources;
    SqlText sql;
    ResourceConfig resources;
    SourceLocation location;
};

struct Feature {
    Located<std::string> name;
    Located<std::string> source;
    std::optional<Located<std::string>> column;
    std::vector<Located<std::string>> sinks;
    Located<int64_t> featureTtlSeconds;  // 0 (and no location) when absent: never expires
    bool featureTtlInvalid = false;      // written, but not a valid TTL (reported): lints leave it alone
    std::string description;
    SourceLocation location;
};

/// One spec file.
struct SpecFile {
    std::string path;
    std::vector<Source> sources;
    std::vector<Feature> features;
};

struct ClusterConfig {
    std::string name;
    std::string bootstrapServers;          // empty or "embedded": the embedded broker
    std::map<std::string, std::string> properties;  // extra librdkafka settings
    std::map<std::string, SourceLocation> propertyLocations;  // where each property was set (none: through --set)
    SourceLocation location;
};

struct SinkConfig {
    std::string name;
    std::string type;                      // redis | kafka | stdout
    std::map<std::string, std::string> properties;  // address, key_format, topic, cluster, ...
    std::map<std::string, SourceLocation> propertyLocations;  // where each setting was set (none: through --set)
    SourceLocation location;
};

/// Where the value of a `${NAME}` reference in an environment setting comes from on Kubernetes: a key of a Secret,
/// mounted into the pod as the environment variable NAME (docs/deployment.md, "Secrets").
struct SecretReference {
    std::string variable;    // the environment variable the runtime expands
    std::string secretName;  // the Kubernetes Secret
    std::string secretKey;   // the key in it
};

/// The Flink target's state locations (`flink:` in an environment): the Flink Kubernetes Operator refuses a
/// savepoint-upgraded job without them.
struct FlinkSettings {
    std::string checkpointsDir;  // state.checkpoints.dir
    std::string savepointsDir;   // state.savepoints.dir
    SourceLocation location;
};

/// One environment (local, staging, prod) of the environment config `pipec.yaml`.
struct Environment {
    std::string name;
    std::map<std::string, ClusterConfig> clusters;
    std::map<std::string, SinkConfig> sinks;
    FlinkSettings flink;
    std::map<std::string, SecretReference> secrets;  // by variable: every `${NAME}` the settings use
};

} // namespace pipec::spec
