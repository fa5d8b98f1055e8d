#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pipec::emit {

/// A YAML value built in memory and printed deterministically (keys in insertion order, strings always
/// double-quoted with JSON escapes, so no value is ever misread as a number, boolean or null).
class YamlNode {
public:
    static YamlNode map() { return YamlNode(Kind::Map); }
    static YamlNode list() { return YamlNode(Kind::List); }
    static YamlNode string(std::string value);
    static YamlNode number(long long value);
    static YamlNode decimal(double value);
    static YamlNode boolean(bool value);
    /// Text emitted as written (a Helm template expression such as `{{ .Values.image | quote }}`).
    static YamlNode raw(std::string text);

    YamlNode& set(std::string key, YamlNode value);   // for maps; returns the inserted value
    YamlNode& add(YamlNode value);                    // for lists
    bool empty() const { return entries_.empty() && items_.empty(); }

    std::string print() const;

private:
    enum class Kind { Map, List, Scalar };
    explicit YamlNode(Kind kind) : kind_(kind) {}
    void print(std::string& out, int indent, bool inlineFirst) const;

    Kind kind_;
    std::string scalar_;
    std::vector<std::pair<std::string, YamlNode>> entries_;
    std::vector<YamlNode> items_;
};

/// A string as a double-quoted YAML/JSON scalar.
std::string quoteYaml(std::string_view text);

} // namespace pipec::emit
