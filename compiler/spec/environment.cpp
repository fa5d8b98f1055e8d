#include "compiler/spec/environment.h"

#include "compiler/spec/yaml_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pipec::spec {

namespace fs = std::filesystem;

std::string findEnvironmentFile(const std::string& specPath) {
    std::error_code error;
    fs::path directory = fs::absolute(fs::path(specPath), error);
    if (!fs::is_directory(directory, error)) directory = directory.parent_path();
    for (int depth = 0; depth < 64 && !directory.empty(); ++depth) {
        for (const char* name : {"pipec.yaml", "pipec.yml"}) {
            fs::path candidate = directory / name;
            if (fs::is_regular_file(candidate, error)) {
                // Report it relative to the working directory when possible, as users typed their paths.
                fs::path relative = fs::relative(candidate, fs::current_path(error), error);
                return !error && !relative.empty() && relative.native().rfind("..", 0) != 0 ? relative.string() : candidate.string();
            }
        }
        if (directory == directory.parent_path()) break;
        directory = directory.parent_path();
    }
    return {};
}

namespace {

/// Whether a setting holds a secret, which must never be written into a plan or a manifest: a Redis `password`, and
/// Kafka settings such as `sasl.password`, `ssl.key.password`, `ssl.keystore.password`,
/// `sasl.oauthbearer.client.secret`, `ssl.key.pem`.
bool isSecretSetting(const std::string& key) {
    std::string last = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
    return last.find("password") != std::string::npos || last.find("secret") != std::string::npos || key == "ssl.key.pem" ||
           key == "sasl.oauthbearer.config" || key == "sasl.jaas.config";
}

/// The environment variable a `{secretKeyRef: {name, key}}` setting is mounted as: PIPEC_SECRET_<NAME>_<KEY>.
std::string secretVariable(const std::string& secretName, const std::string& secretKey) {
    std::string variable = "PIPEC_SECRET_";
    for (unsigned char c : secretName + "_" + secretKey) variable += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
    return variable;
}

/// Records the `${NAME}` references of a setting (each one, unless declared by a secretKeyRef, comes from the key NAME
/// of the Secret `pipec-secrets`), and refuses a secret setting written as the secret itself (E0123).
bool recordReferences(Environment& environment, const std::string& key, const std::string& value, const SourceLocation& location,
                      DiagnosticEngine& diagnostics) {
    bool referenced = false;
    for (const auto& variable : environmentReferences(value)) {
        referenced = true;
        environment.secrets.emplace(variable, SecretReference{variable, "pipec-secrets", variable});
    }
    if (referenced || !isSecretSetting(key) || value.empty()) return true;
    auto& d = diagnostics.error("E0123", location, fmt::format("`{}` holds a secret written as its value", key));
    d.label = "a literal secret";
    std::string variable;
    for (unsigned char c : key) variable += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
    d.help = fmt::format("name where it comes from: `{0}: ${{{1}}}` or `{0}: {{secretKeyRef: {{name: SECRET, key: KEY}}}}`", key, variable);
    d.notes.push_back("secrets never go into the compiled plan or its ConfigMap; the runtime reads them from the environment");
    return false;
}

void loadProperties(YamlReader& reader, const YAML::Node& map, std::map<std::string, std::string>& properties,
                    std::map<std::string, SourceLocation>& locations, const char* what, Environment& environment) {
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (it->second.IsMap() && it->second["secretKeyRef"]) {
            // {secretKeyRef: {name: SECRET, key: KEY}}: the value is the Secret's key, mounted as an environment variable.
            const YAML::Node reference = it->second["secretKeyRef"];
            auto secretName = reference.IsMap() ? reader.string(reference, "name") : std::nullopt;
            auto secretKey = reference.IsMap() ? reader.string(reference, "key") : std::nullopt;
            if (!secretName || !secretKey || it->second.size() != 1) {
                reader.diagnostics().error("E0102", reader.locate(it->second),
                                           fmt::format("{} `{}`: a secret reference is `{{secretKeyRef: {{name: SECRET, key: KEY}}}}`", what,
                                                       it->first.as<std::string>("")));
                continue;
            }
            std::string variable = secretVariable(secretName->value, secretKey->value);
            environment.secrets[variable] = SecretReference{variable, secretName->value, secretKey->value};
            properties[it->first.Scalar()] = "${" + variable + "}";
            locations[it->first.Scalar()] = reader.locate(it->first);
            continue;
        }
        if (!it->second.IsScalar()) {
            reader.diagnostics().error("E0102", reader.locate(it->second), fmt::format("{} `{}` must be a string, found {}", what,
                                                                                       it->first.as<std::string>(""), nodeKind(it->second)));
            continue;
        }
        if ((it->first.IsScalar() && !reader.checkUtf8(it->first, what)) || !reader.checkUtf8(it->second, what)) continue;
        if (!recordReferences(environment, it->first.Scalar(), it->second.Scalar(), reader.locate(it->second), reader.diagnostics())) continue;
        properties[it->first.Scalar()] = it->second.Scalar();
        locations[it->first.Scalar()] = reader.locate(it->first);
    }
}

/// The settings a sink of `type` reads, or nullptr when any key is allowed (a Kafka sink passes the keys it does not
/// read itself, `topic` and `bootstrap_servers`, to librdkafka, which checks them when the job starts).
const std::vector<std::string>* knownSinkSettings(const std::string& type) {
    static const std::vector<std::string> redis = {"address", "key_format", "password"};
    static const std::vector<std::string> none;
    if (type == "redis") return &redis;
    if (type == "stdout") return &none;
    return nullptr;
}

/// A misspelt setting must not silently fall back to a default (an `adress` would write to 127.0.0.1:6379): false,
/// and reported, when `key` is not a setting a sink of this type reads.
bool checkSinkSetting(DiagnosticEngine& diagnostics, const SourceLocation& location, const SinkConfig& sink,
                      const std::string& key) {
    const std::vector<std::string>* settings = knownSinkSettings(sink.type);
    if (settings == nullptr || std::find(settings->begin(), settings->end(), key) != settings->end()) return true;
    const std::vector<std::string>& known = *settings;
    auto& d = diagnostics.error("E0101", location, fmt::format("unknown setting `{}` for {} sink `{}`", key, sink.type, sink.name));
    std::string suggestion = closestMatch(key, known);
    d.label = suggestion.empty() ? "not a known setting" : fmt::format("did you mean `{}`?", suggestion);
    if (location.file.empty() && !suggestion.empty()) d.help = d.label;  // from --set: no snippet shows the label
    d.notes.push_back(known.empty() ? fmt::format("a {} sink takes no settings besides `type`", sink.type)
                                    : fmt::format("known settings: type, {}", fmt::join(known, ", ")));
    return false;
}

bool applyOverride(Environment& environment, const std::string& assignment, DiagnosticEngine& diagnostics) {
    size_t equals = assignment.find('=');
    std::vector<std::string> parts;
    if (equals != std::string::npos) {
        std::stringstream path(assignment.substr(0, equals));
        std::string part;
        while (std::getline(path, part, '.')) parts.push_back(part);
    }
    std::string value = equals == std::string::npos ? "" : assignment.substr(equals + 1);
    auto fail = [&] {
        auto& d = diagnostics.error("E0120", SourceLocation{}, fmt::format("invalid override `{}`", assignment));
        d.help = "use clusters.NAME.bootstrap_servers=HOST:PORT, clusters.NAME.properties.KEY=VALUE, sinks.NAME.KEY=VALUE or "
                 "flink.checkpoints_dir=URI";
        return false;
    };
    if (parts.size() < 3 && !(parts.size() == 2 && parts[0] == "flink")) return fail();
    if (parts[0] == "clusters") {
        ClusterConfig& cluster = environment.clusters[parts[1]];
        cluster.name = parts[1];
        if (parts.size() == 3 && parts[2] == "bootstrap_servers") cluster.bootstrapServers = value;
        else if (parts.size() >= 4 && parts[2] == "properties") {
            std::string key = parts[3];
            for (size_t i = 4; i < parts.size(); ++i) key += "." + parts[i];
            if (!recordReferences(environment, key, value, SourceLocation{}, diagnostics)) return false;
            cluster.properties[key] = value;
            cluster.propertyLocations.erase(key);
        } else return fail();
        return true;
    }
    if (parts[0] == "sinks") {
        SinkConfig& sink = environment.sinks[parts[1]];
        sink.name = parts[1];
        std::string key = parts[2];
        for (size_t i = 3; i < parts.size(); ++i) key += "." + parts[i];
        if (key == "type") {
            sink.type = value;
            return true;
        }
        if (!checkSinkSetting(diagnostics, SourceLocation{}, sink, key)) return false;
        if (!recordReferences(environment, key, value, SourceLocation{}, diagnostics)) return false;
        sink.properties[key] = value;
        sink.propertyLocations.erase(key);
        return true;
    }
    if (parts[0] == "flink" && parts.size() == 2 && (parts[1] == "checkpoints_dir" || parts[1] == "savepoints_dir")) {
        (parts[1] == "checkpoints_dir" ? environment.flink.checkpointsDir : environment.flink.savepointsDir) = value;
        return true;
    }
    return fail();
}

} // namespace

std::optional<Environment> loadEnvironment(const std::string& path, const std::string& name, const std::vector<std::string>& overrides,
                                           SourceManager& sources, DiagnosticEngine& diagnostics) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diagnostics.error("E0001", SourceLocation{path, 0, 0, 1}, fmt::format("cannot read environment config `{}`", path));
        return std::nullopt;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    sources.addFile(path, buffer.str());
    const std::string& text = *sources.text(path);
    YamlReader reader(path, text, diagnostics);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& error) {
        diagnostics.error("E0002", reader.locate(error.mark), fmt::format("invalid YAML: {}", error.msg));
        return std::nullopt;
    }
    if (!root.IsMap()) {
        diagnostics.error("E0102", SourceLocation{path, 1, 1, 1}, "the environment config must map environment names to settings");
        return std::nullopt;
    }
    YAML::Node section = root[name];
    if (!section) {
        std::vector<std::string> names;
        for (auto it = root.begin(); it != root.end(); ++it) names.push_back(it->first.as<std::string>(""));
        auto& d = diagnostics.error("E0121", SourceLocation{path, 1, 1, 1}, fmt::format("environment `{}` is not defined in `{}`", name, path));
        d.label = fmt::format("defined environments: {}", fmt::join(names, ", "));
        return std::nullopt;
    }
    Environment environment;
    environment.name = name;
    SourceLocation owner = reader.keyLocation(root, name.c_str());
    if (!reader.checkMap(section, "an environment", {}, {"clusters", "sinks", "flink"}, owner)) return std::nullopt;
    if (YAML::Node clusters = section["clusters"]; clusters && reader.requireMap(clusters, "clusters", reader.keyLocation(section, "clusters"))) {
        for (auto it = clusters.begin(); it != clusters.end(); ++it) {
            ClusterConfig cluster;
            if (it->first.IsScalar() && !reader.checkUtf8(it->first, "cluster name")) continue;
            cluster.name = it->first.as<std::string>("");
            cluster.location = reader.locate(it->first);
            const YAML::Node settings = it->second;  // a copy: yaml-cpp iterators yield temporaries
            if (!reader.checkMap(settings, "a cluster", {"bootstrap_servers"}, {"properties"}, cluster.location)) continue;
            if (auto servers = reader.string(settings, "bootstrap_servers")) cluster.bootstrapServers = servers->value;
            // Any librdkafka setting may appear in properties, so its keys are not checked.
            if (YAML::Node properties = settings["properties"]; properties && reader.requireMap(properties, "cluster properties", cluster.location))
                loadProperties(reader, properties, cluster.properties, cluster.propertyLocations, "cluster property", environment);
            environment.clusters[cluster.name] = std::move(cluster);
        }
    }
    if (YAML::Node sinks = section["sinks"]; sinks && reader.requireMap(sinks, "sinks", reader.keyLocation(section, "sinks"))) {
        for (auto it = sinks.begin(); it != sinks.end(); ++it) {
            SinkConfig sink;
            if (it->first.IsScalar() && !reader.checkUtf8(it->first, "sink name")) continue;
            sink.name = it->first.as<std::string>("");
            sink.location = reader.locate(it->first);
            const YAML::Node settings = it->second;  // a copy: yaml-cpp iterators yield temporaries
            if (!settings.IsMap()) {
                diagnostics.error("E0102", reader.locate(settings), fmt::format("sink `{}` must be a map, found {}", sink.name, nodeKind(settings)));
                continue;
            }
            loadProperties(reader, settings, sink.properties, sink.propertyLocations, "sink setting", environment);
            sink.type = sink.properties["type"];
            sink.properties.erase("type");
            if (sink.type != "redis" && sink.type != "kafka" && sink.type != "stdout") {
                auto& d = diagnostics.error("E0109", reader.keyLocation(settings, "type"),
                                            sink.type.empty() ? fmt::format("sink `{}` has no `type`", sink.name)
                                                              : fmt::format("unknown sink type `{}`", sink.type));
                d.label = "expected redis, kafka or stdout";
            } else {
                for (const auto& [key, value] : sink.properties)
                    checkSinkSetting(diagnostics, reader.keyLocation(settings, key.c_str()), sink, key);
            }
            environment.sinks[sink.name] = std::move(sink);
        }
    }
    if (YAML::Node flink = section["flink"]; flink && reader.requireMap(flink, "flink", reader.keyLocation(section, "flink"))) {
        environment.flink.location = reader.keyLocation(section, "flink");
        if (reader.checkMap(flink, "the flink settings", {}, {"checkpoints_dir", "savepoints_dir"}, environment.flink.location)) {
            if (auto directory = reader.string(flink, "checkpoints_dir")) environment.flink.checkpointsDir = directory->value;
            if (auto directory = reader.string(flink, "savepoints_dir")) environment.flink.savepointsDir = directory->value;
        }
    }
    for (const auto& assignment : overrides)
        if (!applyOverride(environment, assignment, diagnostics)) return std::nullopt;
    return environment;
}

std::vector<std::string> environmentReferences(const std::string& value) {
    std::vector<std::string> names;
    for (size_t start = value.find("${"); start != std::string::npos; start = value.find("${", start + 2)) {
        size_t end = value.find('}', start + 2);
        if (end == std::string::npos) break;
        std::string name = value.substr(start + 2, end - start - 2);
        bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                     std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
        if (valid) names.push_back(name);
    }
    return names;
}

std::vector<std::string> environmentNames(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::vector<std::string> names;
    try {
        YAML::Node root = YAML::Load(buffer.str());
        if (!root.IsMap()) return {};
        for (auto it = root.begin(); it != root.end(); ++it)
            if (it->first.IsScalar()) names.push_back(it->first.Scalar());
    } catch (const YAML::Exception&) {
        return {};
    }
    return names;
}

std::optional<Environment> defaultEnvironment(const std::string& name, DiagnosticEngine& diagnostics) {
    if (name != "local") {
        auto& d = diagnostics.error("E0121", SourceLocation{}, fmt::format("no environment config (pipec.yaml) found for environment `{}`", name));
        d.help = "only `local` has embedded defaults; pass --env-file or add a pipec.yaml next to the specs";
        return std::nullopt;
    }
    Environment environment;
    environment.name = "local";
    environment.clusters["default"] = ClusterConfig{"default", "embedded", {}, {}, {}};
    return environment;
}

} // namespace pipec::spec
