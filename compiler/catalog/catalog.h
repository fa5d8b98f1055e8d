#pragma once

#include "compiler/common/diagnostics.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <pipec/plan.pb.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::catalog {

/// One SQL-visible column of a source message. Nested message fields are flattened as `a.b` (and `a.b.c`).
struct Column {
    std::string name;
    plan::TypeId type = plan::TYPE_NULL;
    bool nullable = false;
    plan::SourceColumn source;   // how the runtime reads it: field path, wire kind, presence, enum names
    std::string protoType;       // e.g. "int64", "google.protobuf.Timestamp", "com.x.Event.EventType"
};

/// A field that exists but cannot be a column, so the binder can say why when a query names it.
struct UnsupportedField {
    std::string name;
    std::string reason;
};

struct MessageSchema {
    std::string messageName;
    std::vector<Column> columns;
    std::vector<UnsupportedField> unsupported;
    /// The message's file and all its transitive imports, in dependency order, so a runtime can rebuild the pool.
    google::protobuf::FileDescriptorSet descriptorSet;

    const Column* find(std::string_view name) const;
    const Column* findCaseInsensitive(std::string_view name) const;
    std::vector<std::string> columnNames() const;
};

/// The Protobuf schemas pipec compiles against, loaded at run time from .proto files.
class Catalog {
public:
    /// Loads every .proto file under each directory of `protoPaths` (recursively). Syntax and import errors in
    /// .proto files become diagnostics (E0201) pointing into the .proto file.
    static std::unique_ptr<Catalog> load(const std::vector<std::string>& protoPaths, SourceManager& sources,
                                         DiagnosticEngine& diagnostics);
    ~Catalog();

    const google::protobuf::Descriptor* findMessage(std::string_view fullName) const;
    std::vector<std::string> messageNames() const;
    /// Resolves `proto_class` into a schema; an unknown message is E0202 with a did-you-mean at `location`.
    std::optional<MessageSchema> resolve(std::string_view protoClass, const SourceLocation& location,
                                         DiagnosticEngine& diagnostics) const;

    struct State;

private:
    explicit Catalog(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

/// Maps one message's fields to columns (exposed for tests and the runtime-side producer).
MessageSchema describeMessage(const google::protobuf::Descriptor* descriptor);

} // namespace pipec::catalog
