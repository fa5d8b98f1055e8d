#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

namespace pipec::spec_test {

/// A JSON scalar: what one column of a `pipec run --output` row is, and what a test's expected row field is
/// compared with. Numbers compare by value (`1` equals `1.0`), everything else by kind and text.
struct JsonScalar {
    enum class Kind { Null, Bool, Number, String };
    Kind kind = Kind::Null;
    std::string text = "null";  // Bool: `true`/`false`; Number: as written; String: the string itself (unescaped)

    /// A YAML scalar read with YAML 1.2's core schema: a quoted scalar is always a string; a plain one is null
    /// (`null`, `~`, empty), a boolean (`true`/`false`), a number (decimal, with optional fraction and exponent), or
    /// else a string.
    static JsonScalar fromYaml(const YAML::Node& node);
    /// One JSON value as JsonLinesSink writes it (`null`, `true`, `12`, `0.5`, `"text"`).
    static JsonScalar fromJson(std::string_view json);

    bool operator==(const JsonScalar& other) const;
    /// As JSON text.
    std::string json() const;
    /// As a YAML flow scalar that reads back as the same JSON value (strings quoted when YAML would read them as
    /// something else).
    std::string yaml() const;
};

/// A YAML node (map, list or scalar) as JSON text, scalars read as JsonScalar::fromYaml does: how a test's event
/// becomes a line of a replay file.
std::string yamlToJson(const YAML::Node& node);

/// Quotes `text` as a JSON string.
std::string quoteJson(std::string_view text);

} // namespace pipec::spec_test
