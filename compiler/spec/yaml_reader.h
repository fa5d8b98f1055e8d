#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/spec/spec_model.h"

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>

namespace pipec::spec {

/// Reads typed values out of yaml-cpp nodes and reports structural problems (unknown keys, wrong types, missing
/// fields) at the exact node, so every loader shares one set of messages and codes.
class YamlReader {
public:
    YamlReader(std::string path, const std::string& text, DiagnosticEngine& diagnostics)
        : path_(std::move(path)), text_(text), diagnostics_(diagnostics) {}

    SourceLocation locate(const YAML::Node& node) const;
    SourceLocation locate(const YAML::Mark& mark, int length = 1) const;

    /// Checks `map` is a map, reports unknown keys (E0101, did-you-mean) and duplicate keys (E0111), and missing
    /// required keys (E0103, at `owner`). Returns false when `map` is not a map.
    bool checkMap(const YAML::Node& map, const char* what, std::initializer_list<const char*> required,
                  std::initializer_list<const char*> optional, const SourceLocation& owner);

    /// Checks only that `node` is a map whose keys are free-form (names chosen by the user).
    bool requireMap(const YAML::Node& node, const char* what, const SourceLocation& owner);

    /// A string value; nothing when it is absent, not a scalar (E0102) or not valid UTF-8 (E0116).
    std::optional<Located<std::string>> string(const YAML::Node& map, const char* key);
    /// True when the scalar `node` is valid UTF-8 without NUL bytes; else reports E0116 at the first bad byte.
    /// Names and strings reach the compiled plan, whose Protobuf `string` fields must be UTF-8 to read back.
    bool checkUtf8(const YAML::Node& node, const char* what);
    std::optional<Located<int64_t>> integer(const YAML::Node& map, const char* key);
    /// The key's own location inside `map` (for "missing"/"duplicate" diagnostics pointing at the key).
    SourceLocation keyLocation(const YAML::Node& map, const char* key) const;

    DiagnosticEngine& diagnostics() { return diagnostics_; }
    const std::string& path() const { return path_; }
    const std::string& text() const { return text_; }

private:
    std::string path_;
    const std::string& text_;
    DiagnosticEngine& diagnostics_;
};

const char* nodeKind(const YAML::Node& node);

} // namespace pipec::spec
