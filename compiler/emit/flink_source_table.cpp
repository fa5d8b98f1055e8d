#include "compiler/emit/flink_source_table.h"

#include <fmt/format.h>

namespace pipec::emit {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

std::string identifier(std::string_view name) { return flinkIdentifier(name); }

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

FlinkSourceColumn sourceColumn(const FieldDescriptor* field, bool json) {
    FlinkSourceColumn column;
    column.name = field->name();
    column.physicalName = recordName(field, json);
    std::string physical = identifier(column.physicalName);
    column.physicalType = physicalType(field, json, 0);
    column.viewExpression = viewExpression(field, physical, json, 0);
    if (isTimestamp(messageOf(field)) && !field->is_repeated() && !json)
        column.epochMillis = fmt::format("{0}.`seconds` * 1000 + {0}.`nanos` / 1000000", physical);
    return column;
}

} // namespace

std::vector<FlinkSourceColumn> flinkSourceColumns(const Descriptor* message, bool json) {
    std::vector<FlinkSourceColumn> columns;
    for (int i = 0; i < message->field_count(); ++i) columns.push_back(sourceColumn(message->field(i), json));
    return columns;
}

} // namespace pipec::emit
