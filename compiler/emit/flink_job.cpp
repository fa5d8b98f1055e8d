#include "compiler/emit/flink_job.h"

#include "compiler/emit/sha256.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>
#include <set>

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

/// Flink's protobuf format maps message fields to columns: scalars (unsigned 32-bit values as INT), enums as STRING,
/// messages as ROW, repeated as ARRAY. The json format reads numbers into the declared type: there unsigned 32-bit
/// values are BIGINT.
std::string flinkType(const FieldDescriptor* field, int depth, bool json = false) {
    std::string type;
    switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: type = "INT"; break;
    case FieldDescriptor::CPPTYPE_UINT32: type = json ? "BIGINT" : "INT"; break;
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
            fields += fmt::format("{}{} {}", i ? ", " : "", identifier(json ? message->field(i)->json_name() : message->field(i)->name()),
                                  flinkType(message->field(i), depth + 1, json));
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

/// The SQL with every group window and window auxiliary function rewritten to use the `_time` rowtime column.
std::string rewriteTimeArguments(const driver::CompiledJob& job) {
    const std::string& text = job.source.sql.text;
    std::vector<std::pair<size_t, size_t>> spans;
    std::function<void(const sql::Expression&)> visit = [&](const sql::Expression& expression) {
        if (expression.kind == sql::ExpressionKind::FunctionCall && !expression.arguments.empty()) {
            std::string name = expression.name.front();
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            for (const char* window : {"TUMBLE", "HOP", "SESSION"}) {
                std::string w = window;
                if (name == w || name == w + "_START" || name == w + "_END") {
                    const auto& time = *expression.arguments.front();
                    spans.emplace_back(time.span.offset, time.span.length);
                }
            }
        }
        for (const auto& argument : expression.arguments) visit(*argument);
    };
    if (job.ast) {
        for (const auto& item : job.ast->selectItems)
            if (item.expression) visit(*item.expression);
        for (const auto& item : job.ast->groupBy) visit(*item);
        if (job.ast->having) visit(*job.ast->having);
    }
    std::sort(spans.rbegin(), spans.rend());
    std::string rewritten = text;
    for (const auto& [offset, length] : spans) rewritten.replace(offset, length, "`_time`");
    while (!rewritten.empty() && (rewritten.back() == '\n' || rewritten.back() == ';' || rewritten.back() == ' ')) rewritten.pop_back();
    return rewritten;
}

/// How one top-level field of the source message appears in Flink: the column of the Kafka table (named and typed
/// as Flink's protobuf or json format reads it), and the expression of the source view that gives it the name and
/// SQL type pipec binds (wrappers unwrapped, Timestamps as TIMESTAMP(3), unsigned 32-bit values widened, at any depth).
struct SourceColumn {
    std::string name;            // the proto field name, as the spec's SQL spells it
    std::string physicalName;    // the name in the record: the proto name (protobuf), the JSON name (json)
    std::string physicalType;
    std::string viewExpression;  // over the Kafka table's columns
    std::string epochMillis;     // a protobuf Timestamp as epoch milliseconds (the event time is TO_TIMESTAMP_LTZ of it)
};

bool isTimestamp(const Descriptor* message) { return message && message->full_name() == "google.protobuf.Timestamp"; }

bool isWrapper(const Descriptor* message) {
    if (!message || message->file()->name() != "google/protobuf/wrappers.proto") return false;
    return message->field_count() == 1 && message->field(0)->name() == "value";
}

bool isUnsigned32(const FieldDescriptor* field) {
    return field->type() == FieldDescriptor::TYPE_UINT32 || field->type() == FieldDescriptor::TYPE_FIXED32;
}

const Descriptor* messageOf(const FieldDescriptor* field) {
    return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
}

/// The name of a field in the record: the JSON mapping's lowerCamelCase name on a json topic.
std::string recordName(const FieldDescriptor* field, bool json) { return json ? field->json_name() : field->name(); }

/// The field's type in the Kafka table, as the format reads the record. The protobuf format reads a wrapper as
/// ROW<value T>, a Timestamp as ROW<seconds, nanos> and unsigned 32-bit values as INT; the Protobuf JSON mapping
/// writes a wrapper as its bare value and a Timestamp as an RFC 3339 string, which the json format reads as
/// TIMESTAMP_LTZ with `json.timestamp-format.standard = ISO-8601`.
std::string physicalType(const FieldDescriptor* field, bool json, int depth) {
    if (field->is_map() || depth > 8) return flinkType(field, depth, json);
    const Descriptor* message = messageOf(field);
    std::string type;
    if (isTimestamp(message)) type = json ? "TIMESTAMP_LTZ(3)" : "ROW<`seconds` BIGINT, `nanos` INT>";
    else if (isWrapper(message)) type = json ? flinkType(message->field(0), 0, true) : fmt::format("ROW<`value` {}>", flinkType(message->field(0), 0));
    else if (message) {
        std::string fields;
        for (int i = 0; i < message->field_count(); ++i)
            fields += fmt::format("{}{} {}", i ? ", " : "", identifier(recordName(message->field(i), json)), physicalType(message->field(i), json, depth + 1));
        type = fmt::format("ROW<{}>", fields);
    } else {
        type = flinkType(field, depth, json);
        return type;  // flinkType already wraps repeated scalars in ARRAY
    }
    return field->is_repeated() ? fmt::format("ARRAY<{}>", type) : type;
}

/// Whether the view must convert a message field: it holds, at some depth, a field whose record type or name is not
/// what pipec binds.
bool needsConversion(const Descriptor* message, bool json, int depth) {
    if (depth > 8) return false;
    for (int i = 0; i < message->field_count(); ++i) {
        const FieldDescriptor* field = message->field(i);
        if (field->is_repeated()) continue;  // pipec reads no repeated field (E0401)
        const Descriptor* inner = messageOf(field);
        if (isTimestamp(inner) || isWrapper(inner) || (json && field->json_name() != field->name()) || (!json && isUnsigned32(field)) ||
            (inner && needsConversion(inner, json, depth + 1)))
            return true;
    }
    return false;
}

/// The type the view gives a field: the SQL type pipec binds.
std::string viewType(const FieldDescriptor* field, bool json, int depth) {
    const Descriptor* message = messageOf(field);
    if (field->is_repeated() || field->is_map() || depth > 8) return physicalType(field, json, depth);
    if (isTimestamp(message)) return "TIMESTAMP(3)";
    if (isWrapper(message)) return isUnsigned32(message->field(0)) ? "BIGINT" : flinkType(message->field(0), 0, true);
    if (message) {
        std::string fields;
        for (int i = 0; i < message->field_count(); ++i)
            fields += fmt::format("{}{} {}", i ? ", " : "", identifier(message->field(i)->name()), viewType(message->field(i), json, depth + 1));
        return fmt::format("ROW<{}>", fields);
    }
    return isUnsigned32(field) ? "BIGINT" : flinkType(field, depth, json);
}

std::string widenUnsigned32(const std::string& value) {
    return fmt::format("IF({0} < 0, CAST({0} AS BIGINT) + 4294967296, CAST({0} AS BIGINT))", value);
}

/// The expression of the view that reads `record` (the field as the Kafka table holds it) as the view's type. A
/// nested message holding converted fields is rebuilt with ROW(…) and cast to its named ROW type; pipec reads only
/// leaf fields of nested messages, and a leaf of an absent message is NULL either way.
std::string viewExpression(const FieldDescriptor* field, const std::string& record, bool json, int depth) {
    const Descriptor* message = messageOf(field);
    if (field->is_repeated() || field->is_map() || depth > 8) return record;
    if (isTimestamp(message)) {
        if (json) return fmt::format("CAST({} AS TIMESTAMP(3))", record);
        return fmt::format("CAST(TO_TIMESTAMP_LTZ({0}.`seconds` * 1000 + {0}.`nanos` / 1000000, 3) AS TIMESTAMP(3))", record);
    }
    if (isWrapper(message)) {
        std::string value = json ? record : record + ".`value`";
        return isUnsigned32(message->field(0)) && !json ? widenUnsigned32(value) : value;
    }
    if (message) {
        if (!needsConversion(message, json, depth + 1)) return record;
        std::string fields;
        for (int i = 0; i < message->field_count(); ++i) {
            const FieldDescriptor* inner = message->field(i);
            fields += (i ? ", " : "") + viewExpression(inner, record + "." + identifier(recordName(inner, json)), json, depth + 1);
        }
        return fmt::format("CAST(ROW({}) AS {})", fields, viewType(field, json, depth));
    }
    return isUnsigned32(field) && !json ? widenUnsigned32(record) : record;
}

SourceColumn sourceColumn(const FieldDescriptor* field, bool json) {
    SourceColumn column;
    column.name = field->name();
    column.physicalName = recordName(field, json);
    std::string physical = identifier(column.physicalName);
    column.physicalType = physicalType(field, json, 0);
    column.viewExpression = viewExpression(field, physical, json, 0);
    if (isTimestamp(messageOf(field)) && !field->is_repeated() && !json)
        column.epochMillis = fmt::format("{0}.`seconds` * 1000 + {0}.`nanos` / 1000000", physical);
    return column;
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
    std::vector<SourceColumn> fields;
    if (message) {
        for (int i = 0; i < message->field_count(); ++i) fields.push_back(sourceColumn(message->field(i), json));
    }
    out += fmt::format("CREATE TABLE {} (\n", identifier(kafkaTable));
    std::vector<std::string> columns;
    for (const auto& field : fields) columns.push_back(fmt::format("  {} {}", identifier(field.physicalName), field.physicalType));
    if (kafka.timeField) {
        auto field = std::find_if(fields.begin(), fields.end(), [&](const SourceColumn& c) { return c.name == kafka.timeField->value; });
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
    }
    for (const auto& [key, value] : javaKafkaProperties(clusterProperties, kafka.location, job.source.name.value, diagnostics))
        options.emplace_back("properties." + key, value);
    for (size_t i = 0; i < options.size(); ++i)
        out += fmt::format("  {} = {}{}\n", quoteSql(options[i].first), quoteSql(options[i].second), i + 1 < options.size() ? "," : "");
    out += ");\n\n";

    out += fmt::format("CREATE TEMPORARY VIEW {} AS\nSELECT\n", identifier(source.topic()));
    for (const auto& field : fields) out += fmt::format("  {} AS {},\n", field.viewExpression, identifier(field.name));
    out += fmt::format("  `_time`\nFROM {};\n\n", identifier(kafkaTable));

    std::string query = rewriteTimeArguments(job);
    out += fmt::format("CREATE TEMPORARY VIEW {} AS\n{};\n", identifier(job.source.name.value + "_rows"), query);

    std::vector<std::string> inserts;
    std::set<std::string> warnedColumns;
    for (const auto& feature : job.features) {
        plan::TypeId valueType = outputType(job.pipeline, feature.column);
        if ((valueType == plan::DOUBLE || valueType == plan::FLOAT) && warnedColumns.insert(feature.column).second) {
            auto& d = diagnostics.warning("W0603", job.source.name.location,
                                          fmt::format("feature `{}`: the Flink job writes the {} column `{}` as Java prints it (`20.0`, "
                                                      "`1.0E-4`), where pipec writes `20`, `0.0001`",
                                                      feature.name, valueType == plan::DOUBLE ? "DOUBLE" : "FLOAT", feature.column));
            d.help = "compare the value as a number, or cast the column to an integer type when it holds whole numbers";
        }
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
            out += fmt::format("\nCREATE TABLE {} (\n  `key` STRING,\n  `value` STRING,\n  PRIMARY KEY (`key`) NOT ENFORCED\n) WITH (\n",
                               identifier(table));
            if (type == "redis") {
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
            } else if (type == "stdout") {
                out += "  'connector' = 'print'\n);\n";
            } else {
                std::string topic = properties.count("topic") ? properties["topic"] : feature.name;
                std::string servers = properties.count("bootstrap_servers") ? properties["bootstrap_servers"] : bootstrap;
                out += fmt::format("  'connector' = 'upsert-kafka',\n  'topic' = {},\n  'properties.bootstrap.servers' = {},\n"
                                   "  'key.format' = 'raw',\n  'value.format' = 'json'\n);\n",
                                   quoteSql(topic), quoteSql(servers));
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

namespace {

/// The FlinkDeployment's name: the operator refuses names longer than 45 characters, so a longer job name keeps its
/// first characters and a hash of the whole name.
std::string flinkDeploymentName(const std::string& jobName) {
    std::string name = kubernetesName(jobName);
    if (name.size() <= 45) return name;
    name = name.substr(0, 45 - 9);
    while (!name.empty() && name.back() == '-') name.pop_back();
    return name + "-" + sha256Hex(jobName).substr(0, 8);
}

/// A Kubernetes memory quantity (`512Mi`, `2Gi`, `1G`, `1048576`) in MiB; 0 when it cannot be read.
int64_t mebibytes(const std::string& quantity) {
    static const std::vector<std::pair<std::string, double>> kUnits = {
        {"Ki", 1024.0}, {"Mi", 1024.0 * 1024}, {"Gi", 1024.0 * 1024 * 1024}, {"Ti", 1024.0 * 1024 * 1024 * 1024},
        {"k", 1e3},     {"M", 1e6},            {"G", 1e9},                   {"T", 1e12}};
    char* end = nullptr;
    double number = std::strtod(quantity.c_str(), &end);
    std::string unit = end ? std::string(end) : "";
    double bytes = number;
    if (!unit.empty()) {
        auto found = std::find_if(kUnits.begin(), kUnits.end(), [&](const auto& u) { return u.first == unit; });
        if (found == kUnits.end()) return 0;
        bytes = number * found->second;
    }
    return static_cast<int64_t>(bytes / (1024.0 * 1024));
}

} // namespace

bool checkFlinkStateDirectories(const driver::Compilation& compilation, const driver::CompiledJob& job, DiagnosticEngine& diagnostics) {
    const spec::FlinkSettings flink = compilation.environment ? compilation.environment->flink : spec::FlinkSettings{};
    if (!flink.checkpointsDir.empty() && !flink.savepointsDir.empty()) return true;
    std::string environment = compilation.environment ? compilation.environment->name : "local";
    std::vector<std::string> missing;
    if (flink.checkpointsDir.empty()) missing.push_back("`flink.checkpoints_dir`");
    if (flink.savepointsDir.empty()) missing.push_back("`flink.savepoints_dir`");
    auto& d = diagnostics.error("E0603", job.source.name.location,
                                fmt::format("job `{}`: the FlinkDeployment needs {} in environment `{}`", job.source.name.value,
                                            missing.size() == 2 ? missing[0] + " and " + missing[1] : missing[0], environment));
    d.label = "upgraded with a savepoint on Flink";
    d.help = "add `flink: {checkpoints_dir: s3://…/checkpoints, savepoints_dir: s3://…/savepoints}` to the environment";
    if (!compilation.environmentFile.empty()) d.notes.push_back(fmt::format("environment config: {}", compilation.environmentFile));
    return false;
}

std::vector<YamlNode> flinkDeployment(const driver::Compilation& compilation, const driver::CompiledJob& job, const std::string& sql,
                                      const DeploymentSettings& settings, DiagnosticEngine& diagnostics) {
    std::string name = flinkDeploymentName(job.source.name.value);
    auto objectMetadata = [&](const std::string& objectName) {
        YamlNode metadata = YamlNode::map();
        metadata.set("name", YamlNode::string(objectName));
        YamlNode& labels = metadata.set("labels", YamlNode::map());
        labels.set("app.kubernetes.io/name", YamlNode::string("pipec"));
        labels.set("app.kubernetes.io/instance", YamlNode::string(name));
        YamlNode& annotations = metadata.set("annotations", YamlNode::map());
        annotations.set("pipec.dev/spec-file", YamlNode::string(settings.specFile));
        annotations.set("pipec.dev/git-revision", YamlNode::string(settings.gitRevision));
        annotations.set("pipec.dev/digest", YamlNode::string(settings.digest));
        return metadata;
    };

    // The SQL script reaches the job through a ConfigMap mounted into the pods: the image stays the same for every job.
    YamlNode script = YamlNode::map();
    script.set("apiVersion", YamlNode::string("v1"));
    script.set("kind", YamlNode::string("ConfigMap"));
    script.set("metadata", objectMetadata(name + "-sql"));
    script.set("data", YamlNode::map()).set("job.sql", YamlNode::string(sql));

    const spec::FlinkSettings flink = compilation.environment ? compilation.environment->flink : spec::FlinkSettings{};

    YamlNode node = YamlNode::map();
    node.set("apiVersion", YamlNode::string("flink.apache.org/v1beta1"));
    node.set("kind", YamlNode::string("FlinkDeployment"));
    node.set("metadata", objectMetadata(name));
    YamlNode& spec = node.set("spec", YamlNode::map());
    spec.set("image", YamlNode::string(settings.flinkImage));
    spec.set("flinkVersion", YamlNode::string("v1_18"));
    spec.set("serviceAccount", YamlNode::string("flink"));
    YamlNode& configuration = spec.set("flinkConfiguration", YamlNode::map());
    configuration.set("taskmanager.numberOfTaskSlots", YamlNode::string("1"));
    configuration.set("execution.checkpointing.interval", YamlNode::string("30s"));
    configuration.set("state.backend.type", YamlNode::string("rocksdb"));
    configuration.set("state.checkpoints.dir", YamlNode::string(flink.checkpointsDir));
    configuration.set("state.savepoints.dir", YamlNode::string(flink.savepointsDir));
    configuration.set("table.local-time-zone", YamlNode::string("UTC"));
    YamlNode& jobManager = spec.set("jobManager", YamlNode::map()).set("resource", YamlNode::map());
    jobManager.set("memory", YamlNode::string("1024m"));
    jobManager.set("cpu", YamlNode::decimal(1));

    // The spec's memory sizes a native pipec process. A TaskManager JVM needs metaspace (256m), JVM overhead (at least
    // 192m), framework heap and off-heap (128m each), network and managed memory before any task heap: below Flink's
    // own default process size (1728m) it is raised to that, and said so.
    constexpr int64_t kMinimumTaskManagerMebibytes = 1728;
    int64_t memory = mebibytes(job.source.resources.memory.value);
    if (memory < kMinimumTaskManagerMebibytes) {
        auto& d = diagnostics.warning("W0601", job.source.resources.memory.location,
                                      fmt::format("job `{}`: the Flink TaskManager gets {}m, not the spec's {}: a Flink TaskManager "
                                                  "process needs at least Flink's default process size", job.source.name.value,
                                                  kMinimumTaskManagerMebibytes, job.source.resources.memory.value));
        d.help = "memory is per pipec replica on the kubernetes target; the Flink target sizes the TaskManager JVM";
        memory = kMinimumTaskManagerMebibytes;
    }
    YamlNode& taskManager = spec.set("taskManager", YamlNode::map()).set("resource", YamlNode::map());
    taskManager.set("memory", YamlNode::string(fmt::format("{}m", memory)));
    taskManager.set("cpu", YamlNode::decimal(cpuCores(job.source.resources.cpu.value)));

    YamlNode& podSpec = spec.set("podTemplate", YamlNode::map()).set("spec", YamlNode::map());
    YamlNode& container = podSpec.set("containers", YamlNode::list()).add(YamlNode::map());
    container.set("name", YamlNode::string("flink-main-container"));  // the operator merges this into Flink's container
    if (!settings.secrets.empty()) container.set("env", secretEnvironment(settings.secrets));
    YamlNode& mount = container.set("volumeMounts", YamlNode::list()).add(YamlNode::map());
    mount.set("name", YamlNode::string("pipec-sql"));
    mount.set("mountPath", YamlNode::string("/opt/flink/pipec"));
    mount.set("readOnly", YamlNode::boolean(true));
    YamlNode& volume = podSpec.set("volumes", YamlNode::list()).add(YamlNode::map());
    volume.set("name", YamlNode::string("pipec-sql"));
    volume.set("configMap", YamlNode::map()).set("name", YamlNode::string(name + "-sql"));

    YamlNode& flinkJob = spec.set("job", YamlNode::map());
    flinkJob.set("jarURI", YamlNode::string("local:///opt/flink/usrlib/sql-runner.jar"));
    YamlNode& arguments = flinkJob.set("args", YamlNode::list());
    arguments.add(YamlNode::string("/opt/flink/pipec/job.sql"));
    flinkJob.set("parallelism", YamlNode::number(job.source.resources.numberTaskManager.value));
    flinkJob.set("upgradeMode", YamlNode::string("savepoint"));
    return {std::move(script), std::move(node)};
}

} // namespace pipec::emit
