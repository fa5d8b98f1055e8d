#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>
#include <vector>

namespace pipec::emit {

/// A name quoted for Flink SQL.
inline std::string flinkIdentifier(std::string_view name) { return "`" + std::string(name) + "`"; }

/// How one top-level field of the source message appears in Flink: the column of the Kafka table (named and typed
/// as Flink's protobuf or json format reads it), and the expression of the source view that gives it the name and
/// SQL type pipec binds (wrappers unwrapped, Timestamps as TIMESTAMP(3), unsigned 32-bit values widened, at any depth).
struct FlinkSourceColumn {
    std::string name;            // the proto field name, as the spec's SQL spells it
    std::string physicalName;    // the name in the record: the proto name (protobuf), the JSON name (json)
    std::string physicalType;
    std::string viewExpression;  // over the Kafka table's columns
    std::string epochMillis;     // a protobuf Timestamp as epoch milliseconds (the event time is TO_TIMESTAMP_LTZ of it)
};

/// The columns of the Kafka table and the source view for every top-level field of `message`, on a protobuf or a
/// json topic (docs/deployment.md, "Flink target").
std::vector<FlinkSourceColumn> flinkSourceColumns(const google::protobuf::Descriptor* message, bool json);

} // namespace pipec::emit
