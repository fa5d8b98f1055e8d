#pragma once

#include "compiler/common/diagnostics.h"

#include <google/protobuf/compiler/importer.h>

#include <map>
#include <string>

namespace pipec::catalog {

/// Turns the Importer's .proto parse and import errors into E0201 diagnostics located in the .proto file on disk,
/// with the caret under the offending token.
class ProtoErrorCollector : public google::protobuf::compiler::MultiFileErrorCollector {
public:
    ProtoErrorCollector(DiagnosticEngine& diagnostics, const SourceManager& sources) : diagnostics_(&diagnostics), sources_(sources) {}

    /// Records where a virtual (import) path lives on disk, so diagnostics name the real file.
    void mapFile(const std::string& virtualPath, const std::string& diskPath) { diskPaths_.emplace(virtualPath, diskPath); }
    /// Stops reporting: the engine given at load time may not outlive the catalog, and nothing is parsed afterwards.
    void detach() { diagnostics_ = nullptr; }

    void AddError(const std::string& filename, int line, int column, const std::string& message) override;
    void AddWarning(const std::string& filename, int line, int column, const std::string& message) override;

private:
    DiagnosticEngine* diagnostics_;
    const SourceManager& sources_;
    std::map<std::string, std::string> diskPaths_;
};

} // namespace pipec::catalog
