#pragma once

#include "compiler/catalog/column_type.h"
#include "compiler/catalog/message_schema.h"
#include "compiler/common/diagnostics.h"

#include <google/protobuf/descriptor.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::catalog {

/// The Protobuf schemas pipec compiles against, loaded at run time from .proto files.
class Catalog {
public:
    /// Loads every .proto file under each directory of `protoPaths` (recursively). Syntax and import errors in
    /// .proto files become diagnostics (E0201) pointing into the .proto file, whose text is registered with
    /// `sources` so snippets render. A path that is not a directory is E0001. Always returns a catalog: the files
    /// that did load stay usable.
    static std::unique_ptr<Catalog> load(const std::vector<std::string>& protoPaths, SourceManager& sources,
                                         DiagnosticEngine& diagnostics);
    ~Catalog();

    const google::protobuf::Descriptor* findMessage(std::string_view fullName) const;
    /// Fully qualified names of every message in the loaded files (nested ones too, map entries excluded), sorted.
    std::vector<std::string> messageNames() const;
    /// The .proto files that loaded (imports included only when they are under a proto path), in load order.
    const std::vector<const google::protobuf::FileDescriptor*>& files() const;
    /// The file on disk that a loaded file was read from (its import path when it is not under a proto path).
    std::string diskPath(const google::protobuf::FileDescriptor* file) const;
    /// Resolves `proto_class` into a schema; an unknown message is E0202 with a did-you-mean at `location`.
    std::optional<MessageSchema> resolve(std::string_view protoClass, const SourceLocation& location,
                                         DiagnosticEngine& diagnostics) const;

    struct State;

private:
    explicit Catalog(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

} // namespace pipec::catalog
