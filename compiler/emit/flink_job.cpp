#include "compiler/emit/flink_job.h"

#include "compiler/emit/flink_source_table.h"
#include "runtime/aggregates/aggregate.h"
#include "runtime/core/function_catalog.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>
#include <set>
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

std::string identifier(std::string_view name) { return flinkIdentifier(name); }

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

using Replacements = std::vector<std::tuple<size_t, size_t, std::string>>;

/// `text` with the replacements (offset, length, replacement; offsets relative to `base`) applied.
std::string applyReplacements(std::string text, Replacements replacements, size_t base) {
    // One span can be reached twice (a WITH column that two window calls use): rewrite it once.
    std::sort(replacements.rbegin(), replacements.rend());
    replacements.erase(std::unique(replacements.begin(), replacements.end()), replacements.end());
    for (const auto& [offset, length, replacement] : replacements) text.replace(offset - base, length, replacement);
    return text;
}

/// The SQL with every group window and window auxiliary function rewritten to use the `_time` rowtime column, every
/// scalar function and aggregate spelled as the catalogs say Flink spells it, and every `agg(x) FILTER (WHERE c)`
/// written `agg(CASE WHEN c THEN x END)` (`COUNT(*)`: `COUNT(CASE WHEN c THEN 1 END)`), which is the same for every
/// aggregate, as all of them skip NULLs, and which every Flink SQL parser reads.
std::string rewriteTimeArguments(const driver::CompiledJob& job, DiagnosticEngine& diagnostics) {
    const std::string& text = job.source.sql.text;
    Replacements replacements;
    std::function<void(const sql::Expression&, Replacements&)> visit = [&](const sql::Expression& expression, Replacements& out) {
        if (expression.kind == sql::ExpressionKind::FunctionCall) {
            std::string name = expression.name.front();
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            if (!expression.arguments.empty()) {
                for (const char* window : {"TUMBLE", "HOP", "SESSION"}) {
                    std::string w = window;
                    if (name == w || name == w + "_START" || name == w + "_END" || name == w + "_ROWTIME") {
                        const auto& time = *expression.arguments.front();
                        out.emplace_back(time.span.offset, time.span.length, "`_time`");
                    }
                }
            }
            std::string argumentPrefix, argumentSuffix;
            // Aggregates Flink spells otherwise (APPROX_COUNT_DISTINCT → COUNT(DISTINCT …)), and where Flink can compute
            // something else (the catalog's note), said as W0601.
            if (const auto* aggregate = runtime::findSqlAggregate(name, expression.star); aggregate && !expression.nameSpans.empty()) {
                if (aggregate->flinkName != name)
                    out.emplace_back(expression.nameSpans.front().offset, expression.nameSpans.front().length, std::string(aggregate->flinkName));
                if (aggregate->flinkDistinct && !expression.distinct) argumentPrefix = "DISTINCT ";
                if (!aggregate->flinkNote.empty()) {
                    auto& d = diagnostics.warning("W0601", job.source.name.location,
                                                  fmt::format("job `{}`: `{}`: {}", job.source.name.value, expression.text, aggregate->flinkNote));
                    d.help = "docs/functions.md, \"Aggregate functions\", lists how each aggregate runs on Flink";
                }
            }
            if (expression.filter && !expression.nameSpans.empty()) {
                const sql::Expression& condition = *expression.filter;
                Replacements inner;
                visit(condition, inner);
                std::string conditionText = applyReplacements(text.substr(condition.span.offset, condition.span.length), inner, condition.span.offset);
                size_t argumentsEnd = expression.arguments.empty() ? expression.nameSpans.front().offset + expression.nameSpans.front().length
                                                                   : expression.arguments.back()->span.offset + expression.arguments.back()->span.length;
                std::string between = text.substr(argumentsEnd, condition.span.offset - argumentsEnd);
                std::transform(between.begin(), between.end(), between.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
                size_t keyword = argumentsEnd + between.rfind("FILTER");
                size_t closing = text.rfind(')', keyword);
                // Drop ` FILTER (WHERE c)`, keep the call's closing parenthesis.
                out.emplace_back(closing + 1, expression.span.offset + expression.span.length - closing - 1, "");
                if (expression.star) {
                    size_t star = text.find('*', expression.nameSpans.front().offset + expression.nameSpans.front().length);
                    out.emplace_back(star, 1, fmt::format("CASE WHEN {} THEN 1 END", conditionText));
                } else {
                    argumentPrefix += fmt::format("CASE WHEN {} THEN ", conditionText);
                    argumentSuffix = " END";
                }
            }
            if (!expression.arguments.empty()) {
                const auto& first = *expression.arguments.front();
                if (!argumentPrefix.empty()) out.emplace_back(first.span.offset, 0, argumentPrefix);
                if (!argumentSuffix.empty()) out.emplace_back(first.span.offset + first.span.length, 0, argumentSuffix);
            }
            for (const auto& function : runtime::functionCatalog()) {
                if (std::find(function.sqlNames.begin(), function.sqlNames.end(), name) == function.sqlNames.end()) continue;
                if (!expression.nameSpans.empty() && !function.flinkName.empty() && function.flinkName != name)
                    out.emplace_back(expression.nameSpans.front().offset, expression.nameSpans.front().length, std::string(function.flinkName));
                break;
            }
        }
        for (const auto& argument : expression.arguments) visit(*argument, out);
    };
    if (job.ast && job.ast->from.window) {
        // DESCRIPTOR(created_at) of a window TVF names the rowtime attribute, which the source view calls `_time`.
        for (const auto& argument : job.ast->from.window->arguments)
            if (argument.kind == sql::WindowArgument::Kind::Descriptor)
                replacements.emplace_back(argument.value->span.offset, argument.value->span.length, "`_time`");
    }
    if (job.ast) {
        for (const auto& item : job.ast->selectItems)
            if (item.expression) visit(*item.expression, replacements);
        if (job.ast->where) visit(*job.ast->where, replacements);
        for (const auto& item : job.ast->groupBy) visit(*item, replacements);
        if (job.ast->having) visit(*job.ast->having, replacements);
    }
    std::string rewritten = applyReplacements(text, std::move(replacements), 0);
    while (!rewritten.empty() && (rewritten.back() == '\n' || rewritten.back() == ';' || rewritten.back() == ' ')) rewritten.pop_back();
    return rewritten;
}

/// librdkafka settings of the cluster as the Java Kafka client of Flink's connector reads them: `sasl.mechanisms`
/// becomes `sasl.mechanism`, a SASL user name and password become `sasl.jaas.config`, a PEM CA file a PEM truststore.
/// Settings with no Java counterpart that pipec knows are passed as written, with a warning.
std::vector<std::pair<std::string, std::string>> javaKafkaProperties(const std::map<std::string, std::string>& librdkafka,
                                                                     const SourceLocation& location, const std::string& job,
                                                                     DiagnosticEngine& diagnostics) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string mechanism = librdkafka.count("sasl.mechanisms") ? librdkafka.at("sasl.mechanisms")
                            : librdkafka.count("sasl.mechanism") ? librdkafka.at("sasl.mechanism")
                                                                 : "";
    for (const auto& [key, value] : librdkafka) {
        if (key == "sasl.mechanisms" || key == "sasl.mechanism") out.emplace_back("sasl.mechanism", value);
        else if (key == "sasl.username" || key == "sasl.password") continue;
        else if (key == "ssl.ca.location") {
            out.emplace_back("ssl.truststore.location", value);
            out.emplace_back("ssl.truststore.type", "PEM");
        } else {
            static const std::vector<std::string> kSameInJava = {"security.protocol", "client.id", "ssl.endpoint.identification.algorithm",
                                                                 "sasl.kerberos.service.name", "request.timeout.ms", "session.timeout.ms"};
            if (std::find(kSameInJava.begin(), kSameInJava.end(), key) == kSameInJava.end()) {
                auto& d = diagnostics.warning("W0601", location,
                                              fmt::format("job `{}`: the librdkafka setting `{}` is passed to Flink's Java Kafka client as "
                                                          "written; check that the Java client reads it the same way", job, key));
                d.help = "docs/deployment.md, \"Flink target\", lists the settings translated for the Java client";
            }
            out.emplace_back(key, value);
        }
    }
    if (librdkafka.count("sasl.username") || librdkafka.count("sasl.password")) {
        std::string module = mechanism.rfind("SCRAM", 0) == 0 ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                                                              : "org.apache.kafka.common.security.plain.PlainLoginModule";
        auto setting = [&](const char* key) { return librdkafka.count(key) ? librdkafka.at(key) : std::string(); };
        out.emplace_back("sasl.jaas.config", fmt::format("{} required username=\"{}\" password=\"{}\";", module, setting("sasl.username"),
                                                         setting("sasl.password")));
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// A value of `type` as the text pipec's Redis sink writes (docs/feature-store.md): BOOLEAN as `true`/`false`,
/// TIMESTAMP as epoch milliseconds (the session time zone is UTC), the rest as CAST(… AS STRING).
std::string valueText(const std::string& column, plan::TypeId type) {
    switch (type) {
    case plan::BOOLEAN: return fmt::format("LOWER(CAST({} AS STRING))", column);
    case plan::TIMESTAMP:
        return fmt::format("CAST(UNIX_TIMESTAMP(DATE_FORMAT({0}, 'yyyy-MM-dd HH:mm:ss')) * 1000 + CAST(DATE_FORMAT({0}, 'SSS') AS BIGINT) AS STRING)",
                           column);
    default: return fmt::format("CAST({} AS STRING)", column);
    }
}

plan::TypeId outputType(const plan::Pipeline& pipeline, const std::string& name) {
    for (const auto& column : pipeline.output_columns())
        if (column.name() == name) return column.type();
    return plan::VARCHAR;
}

/// The Redis key of a feature row as Flink SQL: the sink's `key_format` with `{feature}` and `{key}` (the entity
/// key columns joined with `|`, NULL as `null`), as pipec's Redis sink builds it.
std::string keyExpression(const driver::FeatureBinding& feature, const std::string& keyFormat, const plan::Pipeline& pipeline) {
    std::string entity;
    for (size_t i = 0; i < feature.keyColumns.size(); ++i)
        entity += fmt::format("{}COALESCE({}, 'null')", i ? ", '|', " : "",
                              valueText(identifier(feature.keyColumns[i]), outputType(pipeline, feature.keyColumns[i])));
    std::vector<std::string> parts;
    std::string literal;
    for (size_t i = 0; i < keyFormat.size();) {
        bool isFeature = keyFormat.compare(i, 9, "{feature}") == 0, isKey = keyFormat.compare(i, 5, "{key}") == 0;
        if (!isFeature && !isKey) {
            literal += keyFormat[i++];
            continue;
        }
        if (!literal.empty()) parts.push_back(quoteSql(literal));
        literal.clear();
        parts.push_back(isFeature ? quoteSql(feature.name) : entity);
        i += isFeature ? 9 : 5;
    }
    if (!literal.empty()) parts.push_back(quoteSql(literal));
    std::string joined;
    for (size_t i = 0; i < parts.size(); ++i) joined += (i ? ", " : "") + parts[i];
    return parts.size() == 1 ? joined : fmt::format("CONCAT({})", joined);
}

/// The Flink type of an output column of `type` in a sink table.
std::string outputFlinkType(plan::TypeId type) {
    switch (type) {
    case plan::BOOLEAN: return "BOOLEAN";
    case plan::INT: return "INT";
    case plan::BIGINT: return "BIGINT";
    case plan::FLOAT: return "FLOAT";
    case plan::DOUBLE: return "DOUBLE";
    case plan::BYTES: return "BYTES";
    case plan::TIMESTAMP: return "TIMESTAMP_LTZ(3)";
    default: return "STRING";
    }
}

/// The upsert-kafka table of a Kafka sink: the entity key as the record key, every output column in the JSON value,
/// as pipec's Kafka sink writes rows (docs/feature-store.md, "Kafka sink").
std::string kafkaSinkTable(const std::string& table, const std::string& topic, const std::map<std::string, std::string>& sink,
                           const std::string& jobBootstrap, const std::map<std::string, std::string>& clusterProperties,
                           const SourceLocation& location, const driver::CompiledJob& job, DiagnosticEngine& diagnostics) {
    std::string out = fmt::format("\nCREATE TABLE {} (\n  `key` STRING", identifier(table));
    for (const auto& column : job.pipeline.output_columns())
        out += fmt::format(",\n  {} {}", identifier(column.name()), outputFlinkType(column.type()));
    out += ",\n  PRIMARY KEY (`key`) NOT ENFORCED\n) WITH (\n";
    std::vector<std::pair<std::string, std::string>> options = {
        {"connector", "upsert-kafka"},
        {"topic", topic},
        {"properties.bootstrap.servers", sink.count("bootstrap_servers") ? sink.at("bootstrap_servers") : jobBootstrap},
        {"key.format", "raw"},
        {"value.format", "json"},
        {"value.fields-include", "EXCEPT_KEY"},
        {"value.json.timestamp-format.standard", "ISO-8601"},
    };
    // On the job's own cluster the producer needs the cluster's (security) settings, as pipec's Kafka sink does.
    std::map<std::string, std::string> producer = sink.count("bootstrap_servers") ? std::map<std::string, std::string>{} : clusterProperties;
    for (const auto& [key, value] : sink)
        if (key != "topic" && key != "bootstrap_servers") producer[key] = value;
    for (const auto& [key, value] : javaKafkaProperties(producer, location, job.source.name.value, diagnostics))
        options.emplace_back("properties." + key, value);
    for (size_t i = 0; i < options.size(); ++i)
        out += fmt::format("  {} = {}{}\n", quoteSql(options[i].first), quoteSql(options[i].second), i + 1 < options.size() ? "," : "");
    out += ");\n";
    auto& d = diagnostics.warning("W0603", job.source.name.location,
                                  fmt::format("topic `{}`: Flink's json format writes the row's DOUBLE values as Java prints them "
                                              "(`450.0`) and timestamps without zero milliseconds (`…:05:00Z`), where pipec's Kafka "
                                              "sink writes `450` and `…:05:00.000Z`", topic));
    d.help = "readers that parse the JSON see the same values; readers that compare the text do not";
    return out;
}

} // namespace

std::string flinkSql(const driver::Compilation& compilation, const driver::CompiledJob& job, DiagnosticEngine& diagnostics) {
    const spec::KafkaSource& kafka = job.source.kafkaSources.front();
    const plan::Source& source = job.pipeline.source();
    const bool json = source.format() == "json";
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
    const std::string kafkaTable = source.topic() + "__kafka";
    std::string out = fmt::format("-- Generated by pipec {} from {} (job `{}`, environment `{}`). Do not edit.\n", PIPEC_VERSION,
                                  job.specPath, job.source.name.value, compilation.environment ? compilation.environment->name : "local");
    out += "-- pipec computes in UTC: TIMESTAMP values, DATE_FORMAT and the feature values below assume it.\n"
           "SET 'table.local-time-zone' = 'UTC';\n";
    out += fmt::format("SET 'pipeline.name' = {};\n\n", quoteSql(kubernetesName(job.source.name.value)));

    // The Kafka table declares the record as Flink's format reads it; the view over it gives every field the name and
    // type the spec's SQL was bound with, so the query runs unchanged (docs/deployment.md, "Flink target").
    std::vector<FlinkSourceColumn> fields = message ? flinkSourceColumns(message, json) : std::vector<FlinkSourceColumn>{};
    out += fmt::format("CREATE TABLE {} (\n", identifier(kafkaTable));
    std::vector<std::string> columns;
    for (const auto& field : fields) columns.push_back(fmt::format("  {} {}", identifier(field.physicalName), field.physicalType));
    if (kafka.timeField) {
        auto field = std::find_if(fields.begin(), fields.end(), [&](const FlinkSourceColumn& c) { return c.name == kafka.timeField->value; });
        std::string time = identifier(kafka.timeField->value);
        if (field != fields.end() && json && field->physicalType == "TIMESTAMP_LTZ(3)") time = identifier(field->physicalName);
        else if (field != fields.end())
            time = fmt::format("TO_TIMESTAMP_LTZ({}, 3)", field->epochMillis.empty() ? field->viewExpression : field->epochMillis);
        columns.push_back(fmt::format("  `_time` AS {}", time));
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
    if (json) {
        options.emplace_back("format", "json");
        options.emplace_back("json.timestamp-format.standard", "ISO-8601");
        options.emplace_back("json.fail-on-missing-field", "false");
        options.emplace_back("json.ignore-parse-errors", "true");  // pipec counts and routes bad records aside
        auto& d = diagnostics.warning("W0601", kafka.location,
                                      fmt::format("job `{}`: Flink's `json` format matches field names exactly; the table declares the "
                                                  "lowerCamelCase names of the Protobuf JSON mapping, and Timestamps as RFC 3339 in UTC "
                                                  "(`Z`), where pipec also accepts the proto field names and other offsets",
                                                  job.source.name.value));
        d.help = "produce the Protobuf JSON mapping's canonical form (what `pipec produce` and `pipec proxy` write)";
    } else {
        options.emplace_back("format", "protobuf");
        options.emplace_back("protobuf.message-class-name", message ? javaClassName(message) : source.message_type());
        // An absent `optional` field, wrapper or Timestamp is NULL, as pipec reads it (Flink 1.19+; proto3 fields without
        // presence still read as their default values, as in pipec).
        options.emplace_back("protobuf.read-default-values", "false");
    }
    for (const auto& [key, value] : javaKafkaProperties(clusterProperties, kafka.location, job.source.name.value, diagnostics))
        options.emplace_back("properties." + key, value);
    for (size_t i = 0; i < options.size(); ++i)
        out += fmt::format("  {} = {}{}\n", quoteSql(options[i].first), quoteSql(options[i].second), i + 1 < options.size() ? "," : "");
    out += ");\n\n";

    out += fmt::format("CREATE TEMPORARY VIEW {} AS\nSELECT\n", identifier(source.topic()));
    for (const auto& field : fields) out += fmt::format("  {} AS {},\n", field.viewExpression, identifier(field.name));
    out += fmt::format("  `_time`\nFROM {}", identifier(kafkaTable));
    // pipec routes a record without an event time aside (`missing_time`); Flink would fail the window on a NULL rowtime.
    out += kafka.timeField ? "\nWHERE `_time` IS NOT NULL;\n\n" : ";\n\n";

    std::string query = rewriteTimeArguments(job, diagnostics);
    out += fmt::format("CREATE TEMPORARY VIEW {} AS\n{};\n", identifier(job.source.name.value + "_rows"), query);

    std::vector<std::string> inserts;
    std::set<std::string> warnedColumns;
    std::set<std::pair<std::string, std::string>> kafkaTables;  // (sink, topic)
    for (const auto& feature : job.features) {
        plan::TypeId valueType = outputType(job.pipeline, feature.column);
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
            if (type == "kafka") {
                // pipec's Kafka sink writes each output row once per (sink, topic) as a JSON object keyed by the entity key.
                std::string topic = properties.count("topic") ? properties["topic"] : feature.name;
                if (!kafkaTables.insert({sinkName, topic}).second) continue;
                std::string kafkaTable = topic + "__" + sinkName;
                out += kafkaSinkTable(kafkaTable, topic, properties, bootstrap, clusterProperties, kafka.location, job, diagnostics);
                std::string columns;
                for (const auto& column : job.pipeline.output_columns())
                    columns += fmt::format(", {}", column.type() == plan::TIMESTAMP
                                                       ? fmt::format("CAST({0} AS TIMESTAMP_LTZ(3)) AS {0}", identifier(column.name()))
                                                       : identifier(column.name()));
                inserts.push_back(fmt::format("INSERT INTO {}\nSELECT {} AS `key`{}\nFROM {};\n", identifier(kafkaTable),
                                              keyExpression(feature, "{key}", job.pipeline), columns,
                                              identifier(job.source.name.value + "_rows")));
                continue;
            }
            out += fmt::format("\nCREATE TABLE {} (\n  `key` STRING,\n  `value` STRING,\n  PRIMARY KEY (`key`) NOT ENFORCED\n) WITH (\n",
                               identifier(table));
            if (type == "redis") {
                if ((valueType == plan::DOUBLE || valueType == plan::FLOAT) && warnedColumns.insert(feature.column).second) {
                    auto& d = diagnostics.warning("W0603", job.source.name.location,
                                                  fmt::format("feature `{}`: the Flink job writes the {} column `{}` as Java prints it "
                                                              "(`20.0`, `1.0E-4`), where pipec writes `20`, `0.0001`",
                                                              feature.name, valueType == plan::DOUBLE ? "DOUBLE" : "FLOAT", feature.column));
                    d.help = "compare the value as a number, or cast the column to an integer type when it holds whole numbers";
                }
                for (const auto& key : feature.keyColumns) {
                    plan::TypeId keyType = outputType(job.pipeline, key);
                    if ((keyType == plan::DOUBLE || keyType == plan::FLOAT) && warnedColumns.insert(key).second) {
                        auto& d = diagnostics.warning("W0603", job.source.name.location,
                                                      fmt::format("feature `{}`: the Flink job writes the key column `{}` into the Redis "
                                                                  "key as Java prints it (`…:20.0`), where pipec writes `…:20`",
                                                                  feature.name, key));
                        d.help = "key features by an integer or string column";
                    }
                }
                std::string address = properties.count("address") ? properties["address"] : "127.0.0.1:6379";
                std::string host = address.substr(0, address.rfind(':'));
                std::string port = address.rfind(':') == std::string::npos ? "6379" : address.substr(address.rfind(':') + 1);
                out += "  -- Apache Flink ships no Redis SQL connector: these options assume a community Redis connector\n"
                       "  -- (for example flink-connector-redis) on the job's classpath, writing SET key value EX ttl.\n";
                out += fmt::format("  'connector' = 'redis',\n  'host' = {},\n  'port' = {},\n", quoteSql(host), quoteSql(port));
                if (properties.count("password")) out += fmt::format("  'password' = {},\n", quoteSql(properties["password"]));
                out += fmt::format("  'redis-mode' = 'single',\n  'command' = 'SET',\n  'ttl' = '{}'\n);\n", feature.ttlSeconds);
                auto& d = diagnostics.warning("W0601", job.source.name.location,
                                              fmt::format("feature `{}`: the Flink target writes Redis through an assumed community "
                                                          "connector ('connector' = 'redis'); Apache Flink has none",
                                                          feature.name));
                d.help = "or materialize through a kafka sink, which the Flink target maps to the upsert-kafka connector";
            } else {
                out += "  'connector' = 'print'\n);\n";
            }
            std::string keyFormat = properties.count("key_format") ? properties["key_format"] : "{feature}:{key}";
            inserts.push_back(fmt::format("INSERT INTO {}\nSELECT {} AS `key`, {} AS `value`\nFROM {};\n", identifier(table),
                                          keyExpression(feature, keyFormat, job.pipeline), valueText(identifier(feature.column), valueType),
                                          identifier(job.source.name.value + "_rows")));
        }
    }
    // One statement set: every feature of the job is written by one Flink job reading the topic once.
    if (!inserts.empty()) {
        out += "\nEXECUTE STATEMENT SET\nBEGIN\n\n";
        for (const auto& insert : inserts) out += insert + "\n";
        out += "END;\n";
    }
    if (job.features.empty()) {
        diagnostics.warning("W0601", job.source.name.location,
                            fmt::format("job `{}` materializes no feature: the Flink job has a source and a view but no INSERT",
                                        job.source.name.value));
    }
    if (out.find("${") != std::string::npos) {
        auto& d = diagnostics.warning("W0601", job.source.name.location,
                                      fmt::format("job `{}`: job.sql names secrets as `${{NAME}}`; Flink does not expand them, so the SQL "
                                                  "runner must substitute them from the environment the FlinkDeployment mounts",
                                                  job.source.name.value));
        d.help = "docs/deployment.md, \"Flink target\": the runner step that substitutes the environment";
    }
    return out;
}

} // namespace pipec::emit
