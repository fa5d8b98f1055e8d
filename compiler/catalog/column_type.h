#pragma once

#include <google/protobuf/descriptor.h>
#include <pipec/plan.pb.h>

#include <optional>
#include <string>

namespace pipec::catalog {

/// How one Protobuf leaf value becomes a SQL value: the SQL type and how the runtime decodes it off the wire.
/// The table is documented in docs/diagnostics/catalog.md ("Type mapping").
struct ColumnType {
    plan::TypeId type = plan::TYPE_NULL;
    plan::FieldKind kind = plan::FIELD_UNKNOWN;
    plan::FieldKind wrappedKind = plan::FIELD_UNKNOWN;  // for FIELD_WRAPPER: the kind of the wrapper's `value`
};

/// The column type of a scalar or enum field (its own type, ignoring repetition), or nothing for message fields.
std::optional<ColumnType> scalarColumnType(const google::protobuf::FieldDescriptor* field);

/// The column type of a well-known message that is read as a single value (Timestamp, the `*Value` wrappers),
/// or nothing for any other message, which is either flattened or unsupported.
std::optional<ColumnType> wellKnownColumnType(const google::protobuf::Descriptor* message);

/// SQL type name for printing: BOOLEAN INT BIGINT FLOAT DOUBLE VARCHAR BYTES TIMESTAMP(3) INTERVAL NULL.
std::string typeName(plan::TypeId type);

} // namespace pipec::catalog
