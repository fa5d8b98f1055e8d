#include "compiler/catalog/column_type.h"

#include "runtime/core/function_catalog.h"

#include <array>
#include <string_view>

namespace pipec::catalog {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

std::optional<ColumnType> scalarColumnType(const FieldDescriptor* field) {
    // Unsigned 32-bit values do not fit INT, so they widen to BIGINT; unsigned 64-bit values have no wider SQL type
    // and wrap above 2^63-1 (documented).
    switch (field->type()) {
    case FieldDescriptor::TYPE_INT32: return ColumnType{plan::INT, plan::FIELD_INT32};
    case FieldDescriptor::TYPE_SINT32: return ColumnType{plan::INT, plan::FIELD_SINT32};
    case FieldDescriptor::TYPE_SFIXED32: return ColumnType{plan::INT, plan::FIELD_SFIXED32};
    case FieldDescriptor::TYPE_INT64: return ColumnType{plan::BIGINT, plan::FIELD_INT64};
    case FieldDescriptor::TYPE_SINT64: return ColumnType{plan::BIGINT, plan::FIELD_SINT64};
    case FieldDescriptor::TYPE_SFIXED64: return ColumnType{plan::BIGINT, plan::FIELD_SFIXED64};
    case FieldDescriptor::TYPE_UINT32: return ColumnType{plan::BIGINT, plan::FIELD_UINT32};
    case FieldDescriptor::TYPE_FIXED32: return ColumnType{plan::BIGINT, plan::FIELD_FIXED32};
    case FieldDescriptor::TYPE_UINT64: return ColumnType{plan::BIGINT, plan::FIELD_UINT64};
    case FieldDescriptor::TYPE_FIXED64: return ColumnType{plan::BIGINT, plan::FIELD_FIXED64};
    case FieldDescriptor::TYPE_FLOAT: return ColumnType{plan::FLOAT, plan::FIELD_FLOAT};
    case FieldDescriptor::TYPE_DOUBLE: return ColumnType{plan::DOUBLE, plan::FIELD_DOUBLE};
    case FieldDescriptor::TYPE_BOOL: return ColumnType{plan::BOOLEAN, plan::FIELD_BOOL};
    case FieldDescriptor::TYPE_STRING: return ColumnType{plan::VARCHAR, plan::FIELD_STRING};
    case FieldDescriptor::TYPE_BYTES: return ColumnType{plan::BYTES, plan::FIELD_BYTES};
    case FieldDescriptor::TYPE_ENUM: return ColumnType{plan::VARCHAR, plan::FIELD_ENUM};
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP: return std::nullopt;
    }
    return std::nullopt;
}

std::optional<ColumnType> wellKnownColumnType(const Descriptor* message) {
    static constexpr std::array<std::string_view, 9> kWrappers = {
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
    const std::string& name = message->full_name();
    if (name == "google.protobuf.Timestamp") return ColumnType{plan::TIMESTAMP, plan::FIELD_TIMESTAMP};
    for (std::string_view wrapper : kWrappers) {
        if (name != wrapper) continue;
        // A wrapper holds its value in field 1; the column takes that field's type, and absence means NULL.
        const FieldDescriptor* value = message->FindFieldByNumber(1);
        auto inner = value ? scalarColumnType(value) : std::nullopt;
        if (!inner) return std::nullopt;
        return ColumnType{inner->type, plan::FIELD_WRAPPER, inner->kind};
    }
    return std::nullopt;
}

std::string typeName(plan::TypeId type) { return runtime::sqlTypeName(type); }

} // namespace pipec::catalog
