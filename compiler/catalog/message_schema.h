#pragma once

#include "compiler/catalog/column_type.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <pipec/plan.pb.h>

#include <string>
#include <string_view>
#include <vector>

namespace pipec::catalog {

/// One SQL-visible column of a source message. Nested message fields are flattened as `a.b` (and `a.b.c`).
struct Column {
    std::string name;              // SQL name, e.g. "store_id", "store_location.region"
    plan::TypeId type = plan::TYPE_NULL;
    bool nullable = false;         // absent reads as NULL rather than the type's default value
    plan::SourceColumn source;     // how the runtime reads it: field path, wire kind, presence, enum names, JSON name
    std::string protoType;         // e.g. "int64", "google.protobuf.Timestamp", "com.x.Event.EventType"
};

/// A field that exists but cannot be a column (repeated, map, unsupported well-known type, too deep), so the
/// binder can say why when a query names it.
struct UnsupportedField {
    std::string name;
    std::string reason;
};

/// The SQL view of one Protobuf message: its columns and the descriptors a runtime needs to decode it.
struct MessageSchema {
    std::string messageName;                    // fully qualified
    std::vector<Column> columns;                // in field-number order, depth first
    std::vector<UnsupportedField> unsupported;  // in the same order
    /// The message's file and all its transitive imports, in dependency order, so a runtime can rebuild the pool.
    google::protobuf::FileDescriptorSet descriptorSet;

    const Column* find(std::string_view name) const;
    const Column* findCaseInsensitive(std::string_view name) const;
    const UnsupportedField* findUnsupported(std::string_view name) const;
    std::vector<std::string> columnNames() const;
};

/// Message fields nest at most this many levels below the root; deeper (recursive) fields are unsupported.
constexpr int kMaxNestingDepth = 8;

/// Maps one message's fields to columns and collects its descriptor set.
MessageSchema describeMessage(const google::protobuf::Descriptor* descriptor);

} // namespace pipec::catalog
