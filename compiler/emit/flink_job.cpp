#include "compiler/emit/flink_job.h"

#include "runtime/core/function_catalog.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>
#include <tuple>

namespace pipec::emit {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

std::string quoteSql(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        out += c;
        if (c == '\'') out += '\'';
    }
    return out + "'";
}

std::string identifier(std::string_view name) { return fmt::format("`{}`", name); }

/// Flink's protobuf format maps message fields to columns: scalars, enums as STRING, messages as ROW, repeated as ARRAY.
std::string flinkType(const FieldDescriptor* field, int depth) {
    std::string type;
    switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: type = "INT"; break;
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: type = "BIGINT"; break;
    case FieldDescriptor::CPPTYPE_FLOAT: type = "FLOAT"; break;
    case FieldDescriptor::CPPTYPE_DOUBLE: type = "DOUBLE"; break;
    case FieldDescriptor::CPPTYPE_BOOL: type = "BOOLEAN"; break;
    case FieldDescriptor::CPPTYPE_ENUM: type = "STRING"; break;
    case FieldDescriptor::CPPTYPE_STRING: type = field->type() == FieldDescriptor::TYPE_BYTES ? "BYTES" : "STRING"; break;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
        if (depth > 8) return "BYTES";
        const Descriptor* message = field->message_type();
        std::string fields;
        for (int i = 0; i < message->field_count(); ++i)
            fields += fmt::format("{}{} {}", i ? ", " : "", identifier(message->field(i)->name()), flinkType(message->field(i), depth + 1));
        type = fmt::format("ROW<{}>", fields);
        break;
    }
    }
    if (field->is_map()) return "MAP<STRING, STRING>";
    return field->is_repeated() ? fmt::format("ARRAY<{}>", type) : type;
}

/// The Java class Flink's protobuf format loads: java_package (else the proto package), then either the message
/// (java_multiple_files) or OuterClass$Message.
std::string javaClassName(const Descriptor* message) {
    const auto* file = message->file();
    std::string package = file->options().has_java_package() ? file->options().java_package() : file->package();
    std::string nested;
    for (const Descriptor* d = message; d; d = d->containing_type()) nested = d->name() + (nested.empty() ? "" : "$" + nested);
    std::string prefix = package.empty() ? "" : package + ".";
    if (file->options().java_multiple_files()) return prefix + nested;
    std::string outer = file->options().java_outer_classname();
    if (outer.empty()) {
        std::string base = file->name().substr(file->name().rfind('/') == std::string::npos ? 0 : file->name().rfind('/') + 1);
        base = base.substr(0, base.rfind('.'));
        bool upper = true;
        for (char c : base) {
            if (c == '_' || c == '-') {
                upper = true;
                continue;
            }
            outer += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
            upper = false;
        }
    }
    return prefix + outer + "$" + nested;
}

std::string intervalLiteral(int64_t ms) {
    if (ms % 1000 == 0) return fmt::format("INTERVAL '{}' SECOND", ms / 1000);
    return fmt::format("INTERVAL '{}.{:03}' SECOND", ms / 1000, ms % 1000);
}

/// The SQL with every group window and window auxiliary function rewritten to use the `_time` rowtime column, and
/// every scalar function spelled as the function catalog says Flink spells it.
std::string rewriteTimeArguments(const driver::CompiledJob& job) {
    const std::string& text = job.source.sql.text;
    std::vector<std::tuple<size_t, size_t, std::string>> replacements;
    std::function<void(const sql::Expression&)> visit = [&](const sql::Expression& expression) {
        if (expression.kind == sql::ExpressionKind::FunctionCall && !expression.arguments.empty()) {
            std::string name = expression.name.front();
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            for (const char* window : {"TUMBLE", "HOP", "SESSION"}) {
                std::string w = window;
                if (name == w || name == w + "_START" || name == w + "_END") {
                    const auto& time = *expression.arguments.front();
                    replacements.emplace_back(time.span.offset, time.span.length, "`_time`");
                }
            }
            for (const auto& function : runtime::functionCatalog()) {
                if (std::find(function.sqlNames.begin(), function.sqlNames.end(), name) == function.sqlNames.end()) continue;
                if (!expression.nameSpans.empty() && !function.flinkName.empty() && function.flinkName != name)
                    replacements.emplace_back(expression.nameSpans.front().offset, expression.nameSpans.front().length,
                                              std::string(function.flinkName));
                break;
            }
        }
        for (const auto& argument : expression.arguments) visit(*argument);
    };
    if (job.ast) {
        for (const auto& item : job.ast->selectItems)
            if (item.expression) visit(*item.expression);
        if (job.ast->where) visit(*job.ast->where);
        for (const auto& item : job.ast->groupBy) visit(*item);
        if (job.ast->having) visit(*job.ast->having);
    }
    // One span can be reached twice (a WITH column that two window calls use): rewrite it once.
    std::sort(replacements.rbegin(), replacements.rend());
    replacements.erase(std::unique(replacements.begin(), replacements.end()), replacements.end());
    std::string rewritten = text;
    for (const auto& [offset, length, replacement] : replacements) rewritten.replace(offset, length, replacement);
    while (!rewritten.empty() && (rewritten.back() == '\n' || rewritten.back() == ';' || rewritten.back() == ' ')) rewritten.pop_back();
    return rewritten;
}

} // namespace

std::string flinkSql(const driver::Compilation& compilation, const driver::CompiledJob& job, DiagnosticEngine& diagnostics) {
    const spec::KafkaSource& kafka = job.source.kafkaSources.front();
    const plan::Source& source = job.pipeline.source();
    google::protobuf::DescriptorPool pool;
    for (const auto& file : source.descriptors().file()) pool.BuildFile(file);
    const Descriptor* message = pool.FindMessageTypeByName(source.message_type());
    std::string bootstrap = "<bootstrap servers>";
    std::map<std::string, std::string> clusterProperties;
    if (compilation.environment) {
        if (auto cluster = compilation.environment->clusters.find(kafka.cluster.value); cluster != compilation.environment->clusters.end()) {
            bootstrap = cluster->second.bootstrapServers;
            clusterProperties = cluster->second.properties;
        }
    }
    std::string out = fmt::format("-- Generated by pipec {} from {} (job `{}`, environment `{}`). Do not edit.\n", PIPEC_VERSION,
                                  job.specPath, job.source.name.value, compilation.environment ? compilation.environment->name : "local");
    out += fmt::format("CREATE TABLE {} (\n", identifier(source.topic()));
    std::vector<std::string> columns;
    if (message) {
        for (int i = 0; i < message->field_count(); ++i)
            columns.push_back(fmt::format("  {} {}", identifier(message->field(i)->name()), flinkType(message->field(i), 0)));
    }
    if (kafka.timeField) {
        const FieldDescriptor* field = message ? message->FindFieldByName(kafka.timeField->value) : nullptr;
        if (field && field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
            columns.push_back(fmt::format("  `_time` AS TO_TIMESTAMP_LTZ({0}.`seconds` * 1000 + {0}.`nanos` / 1000000, 3)", identifier(kafka.timeField->value)));
        else
            columns.push_back(fmt::format("  `_time` AS TO_TIMESTAMP_LTZ({}, 3)", identifier(kafka.timeField->value)));
    } else {
        columns.push_back("  -- pipec reads the event time from the `event-created-at` envelope header; Flink's kafka connector cannot\n"
                          "  -- read a header as the rowtime, so the Kafka record timestamp (set by producers to the creation time) is used.\n"
                          "  `_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'");
        auto& d = diagnostics.warning("W0601", kafka.location,
                                      fmt::format("job `{}`: on the Flink target the event time is the Kafka record timestamp, not the "
                                                  "`event-created-at` envelope header", job.source.name.value));
        d.help = "set `time_field` to read the event time from the payload on every target";
    }
    columns.push_back(fmt::format("  WATERMARK FOR `_time` AS `_time` - {}", intervalLiteral(source.watermark_delay_ms())));
    for (size_t i = 0; i < columns.size(); ++i) out += columns[i] + (i + 1 < columns.size() ? ",\n" : "\n");
    out += ") WITH (\n";
    std::vector<std::pair<std::string, std::string>> options = {
        {"connector", "kafka"},
        {"topic", source.topic()},
        {"properties.bootstrap.servers", bootstrap},
        {"properties.group.id", kubernetesName(job.source.name.value)},
        {"scan.startup.mode", "group-offsets"},
        {"properties.auto.offset.reset", "earliest"},
    };
    if (source.format() == "json") {
        options.emplace_back("format", "json");
        auto& d = diagnostics.warning("W0601", kafka.location,
                                      fmt::format("job `{}`: JSON payloads are read with Flink's `json` format, which matches fields by "
                                                  "their proto names, not by the lowerCamelCase JSON names", job.source.name.value));
        d.help = "produce JSON with the original proto field names for the Flink target";
    } else {
        options.emplace_back("format", "protobuf");
        options.emplace_back("protobuf.message-class-name", message ? javaClassName(message) : source.message_type());
    }
    for (const auto& [key, value] : clusterProperties) options.emplace_back("properties." + key, value);
    for (size_t i = 0; i < options.size(); ++i)
        out += fmt::format("  {} = {}{}\n", quoteSql(options[i].first), quoteSql(options[i].second), i + 1 < options.size() ? "," : "");
    out += ");\n\n";

    std::string query = rewriteTimeArguments(job);
    out += fmt::format("CREATE TEMPORARY VIEW {} AS\n{};\n", identifier(job.source.name.value + "_rows"), query);

    for (const auto& feature : job.features) {
        for (const auto& sinkName : feature.sinks) {
            std::string table = feature.name + "__" + sinkName;
            std::string type = "redis";
            std::map<std::string, std::string> properties;
            if (compilation.environment) {
                if (auto sink = compilation.environment->sinks.find(sinkName); sink != compilation.environment->sinks.end()) {
                    type = sink->second.type;
                    properties = sink->second.properties;
                }
            }
            std::string valueType = "STRING";
            out += fmt::format("\nCREATE TABLE {} (\n  `key` STRING,\n  `value` {},\n  PRIMARY KEY (`key`) NOT ENFORCED\n) WITH (\n",
                               identifier(table), valueType);
            if (type == "redis") {
                std::string address = properties.count("address") ? properties["address"] : "127.0.0.1:6379";
                std::string host = address.substr(0, address.rfind(':'));
                std::string port = address.rfind(':') == std::string::npos ? "6379" : address.substr(address.rfind(':') + 1);
                out += "  -- Apache Flink ships no Redis SQL connector: these options assume a community Redis connector\n"
                       "  -- (for example flink-connector-redis) on the job's classpath, writing SET key value EX ttl.\n";
                out += fmt::format("  'connector' = 'redis',\n  'host' = {},\n  'port' = {},\n  'redis-mode' = 'single',\n  'command' = 'SET',\n"
                                   "  'ttl' = '{}'\n);\n",
                                   quoteSql(host), quoteSql(port), feature.ttlSeconds);
                auto& d = diagnostics.warning("W0601", job.source.name.location,
                                              fmt::format("feature `{}`: the Flink target writes Redis through an assumed community "
                                                          "connector ('connector' = 'redis'); Apache Flink has none",
                                                          feature.name));
                d.help = "or materialize through a kafka sink, which the Flink target maps to the upsert-kafka connector";
            } else {
                std::string topic = properties.count("topic") ? properties["topic"] : feature.name;
                out += fmt::format("  'connector' = 'upsert-kafka',\n  'topic' = {},\n  'properties.bootstrap.servers' = {},\n"
                                   "  'key.format' = 'raw',\n  'value.format' = 'json'\n);\n",
                                   quoteSql(topic), quoteSql(bootstrap));
            }
            std::string key;
            for (size_t i = 0; i < feature.keyColumns.size(); ++i)
                key += fmt::format("{}COALESCE(CAST({} AS STRING), 'null')", i ? ", '|', " : "", identifier(feature.keyColumns[i]));
            out += fmt::format("\nINSERT INTO {}\nSELECT CONCAT({}, ':', {}) AS `key`, CAST({} AS STRING) AS `value`\nFROM {};\n",
                               identifier(table), quoteSql(feature.name), key, identifier(feature.column),
                               identifier(job.source.name.value + "_rows"));
        }
    }
    if (job.features.empty()) {
        diagnostics.warning("W0601", job.source.name.location,
                            fmt::format("job `{}` materializes no feature: the Flink job has a source and a view but no INSERT",
                                        job.source.name.value));
    }
    return out;
}

YamlNode flinkDeployment(const driver::CompiledJob& job, const DeploymentSettings& settings) {
    std::string name = kubernetesName(job.source.name.value);
    YamlNode node = YamlNode::map();
    node.set("apiVersion", YamlNode::string("flink.apache.org/v1beta1"));
    node.set("kind", YamlNode::string("FlinkDeployment"));
    YamlNode& metadata = node.set("metadata", YamlNode::map());
    metadata.set("name", YamlNode::string(name));
    YamlNode& labels = metadata.set("labels", YamlNode::map());
    labels.set("app.kubernetes.io/name", YamlNode::string("pipec"));
    labels.set("app.kubernetes.io/instance", YamlNode::string(name));
    YamlNode& annotations = metadata.set("annotations", YamlNode::map());
    annotations.set("pipec.dev/spec-file", YamlNode::string(settings.specFile));
    annotations.set("pipec.dev/git-revision", YamlNode::string(settings.gitRevision));
    annotations.set("pipec.dev/digest", YamlNode::string(settings.digest));
    YamlNode& spec = node.set("spec", YamlNode::map());
    spec.set("image", YamlNode::string("flink:1.18"));
    spec.set("flinkVersion", YamlNode::string("v1_18"));
    spec.set("serviceAccount", YamlNode::string("flink"));
    YamlNode& configuration = spec.set("flinkConfiguration", YamlNode::map());
    configuration.set("taskmanager.numberOfTaskSlots", YamlNode::string("1"));
    configuration.set("execution.checkpointing.interval", YamlNode::string("30s"));
    configuration.set("state.backend.type", YamlNode::string("rocksdb"));
    YamlNode& jobManager = spec.set("jobManager", YamlNode::map()).set("resource", YamlNode::map());
    jobManager.set("memory", YamlNode::string("1024m"));
    jobManager.set("cpu", YamlNode::decimal(1));
    // Kubernetes memory quantities (Mi, Gi) are binary, as Flink's m/g suffixes are.
    std::string memory = job.source.resources.memory.value;
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{{"Ki", "k"}, {"Mi", "m"}, {"Gi", "g"}, {"Ti", "t"}})
        if (memory.size() > 2 && memory.compare(memory.size() - 2, 2, from) == 0) memory = memory.substr(0, memory.size() - 2) + to;
    YamlNode& taskManager = spec.set("taskManager", YamlNode::map()).set("resource", YamlNode::map());
    taskManager.set("memory", YamlNode::string(memory));
    taskManager.set("cpu", YamlNode::decimal(cpuCores(job.source.resources.cpu.value)));
    YamlNode& flinkJob = spec.set("job", YamlNode::map());
    flinkJob.set("jarURI", YamlNode::string("local:///opt/flink/usrlib/sql-runner.jar"));
    YamlNode& arguments = flinkJob.set("args", YamlNode::list());
    arguments.add(YamlNode::string("/opt/flink/usrlib/sql-scripts/" + name + ".sql"));
    flinkJob.set("parallelism", YamlNode::number(job.source.resources.numberTaskManager.value));
    flinkJob.set("upgradeMode", YamlNode::string("savepoint"));
    return node;
}

} // namespace pipec::emit
