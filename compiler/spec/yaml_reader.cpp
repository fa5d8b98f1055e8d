#include "compiler/spec/yaml_reader.h"

#include "compiler/common/utf8.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <vector>

namespace pipec::spec {

const char* nodeKind(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "nothing";
    default: return "an undefined value";
    }
}

SourceLocation YamlReader::locate(const YAML::Mark& mark, int length) const {
    if (mark.line < 0) return SourceLocation{path_, 0, 0, 1};
    return SourceLocation{path_, mark.line + 1, mark.column + 1, std::max(1, length)};
}

SourceLocation YamlReader::locate(const YAML::Node& node) const {
    int length = 1;
    if (node.IsScalar()) {
        // Underline the value as written on its first line (quotes included), not past the line's end.
        size_t start = node.Mark().pos >= 0 ? static_cast<size_t>(node.Mark().pos) : 0;
        size_t end = text_.find('\n', start);
        if (end == std::string::npos) end = text_.size();
        size_t written = node.Scalar().size();
        if (start < text_.size() && (text_[start] == '"' || text_[start] == '\'')) written += 2;
        length = static_cast<int>(std::max<size_t>(1, std::min(written, end - start)));
    }
    return locate(node.Mark(), length);
}

SourceLocation YamlReader::keyLocation(const YAML::Node& map, const char* key) const {
    if (map.IsMap()) {
        for (auto it = map.begin(); it != map.end(); ++it)
            if (it->first.IsScalar() && it->first.Scalar() == key) return locate(it->first);
    }
    return locate(map);
}

bool YamlReader::checkMap(const YAML::Node& map, const char* what, std::initializer_list<const char*> required,
                          std::initializer_list<const char*> optional, const SourceLocation& owner) {
    if (!map.IsMap()) {
        auto& d = diagnostics_.error("E0102", map.IsNull() ? owner : locate(map), fmt::format("{} must be a map, found {}", what, nodeKind(map)));
        d.label = "expected `key: value` entries";
        return false;
    }
    std::vector<std::string> known;
    for (const char* key : required) known.emplace_back(key);
    for (const char* key : optional) known.emplace_back(key);
    std::map<std::string, SourceLocation> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
        const YAML::Node key = it->first;  // a copy: yaml-cpp iterators yield temporaries
        if (!key.IsScalar()) {
            diagnostics_.error("E0102", locate(key), fmt::format("keys in {} must be names, found {}", what, nodeKind(key)));
            continue;
        }
        const std::string& name = key.Scalar();
        auto [previous, inserted] = seen.emplace(name, locate(key));
        if (!inserted) {
            auto& d = diagnostics_.error("E0111", locate(key), fmt::format("duplicate key `{}` in {}", name, what));
            d.label = "second definition";
            d.notes.push_back(fmt::format("first defined at line {}", previous->second.line));
            continue;
        }
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            auto& d = diagnostics_.error("E0101", locate(key), fmt::format("unknown key `{}` in {}", name, what));
            std::string suggestion = closestMatch(name, known);
            d.label = suggestion.empty() ? "not a known key" : fmt::format("did you mean `{}`?", suggestion);
            d.notes.push_back(fmt::format("known keys: {}", fmt::join(known, ", ")));
        }
    }
    for (const char* key : required) {
        if (!seen.count(key)) {
            auto& d = diagnostics_.error("E0103", owner, fmt::format("{} is missing required key `{}`", what, key));
            d.label = fmt::format("`{}` required here", key);
        }
    }
    return true;
}

bool YamlReader::requireMap(const YAML::Node& node, const char* what, const SourceLocation& owner) {
    if (node.IsMap()) return true;
    auto& d = diagnostics_.error("E0102", node.IsNull() ? owner : locate(node), fmt::format("{} must be a map, found {}", what, nodeKind(node)));
    d.label = "expected `name: settings` entries";
    return false;
}

std::optional<Located<std::string>> YamlReader::string(const YAML::Node& map, const char* key) {
    if (!map.IsMap()) return std::nullopt;
    YAML::Node node = map[key];
    if (!node) return std::nullopt;
    if (!node.IsScalar()) {
        auto& d = diagnostics_.error("E0102", node.IsNull() ? keyLocation(map, key) : locate(node),
                                     fmt::format("`{}` must be a string, found {}", key, nodeKind(node)));
        d.label = "expected a string";
        return std::nullopt;
    }
    if (!checkUtf8(node, key)) return std::nullopt;
    return Located<std::string>{node.Scalar(), locate(node)};
}

bool YamlReader::checkUtf8(const YAML::Node& node, const char* what) {
    const std::string& value = node.Scalar();
    size_t bad = firstInvalidUtf8(value);
    if (bad == std::string::npos) return true;
    SourceLocation location = locate(node);
    // Point at the byte itself when the value is written as is on one line (plain or quoted without escapes);
    // otherwise at the start of the value.
    size_t start = node.Mark().pos >= 0 ? static_cast<size_t>(node.Mark().pos) : text_.size();
    if (start < text_.size() && (text_[start] == '"' || text_[start] == '\'')) ++start;
    if (start + bad < text_.size() && text_.compare(start, bad + 1, value, 0, bad + 1) == 0 &&
        value.find('\n') > bad) {
        location.column += static_cast<int>(start - static_cast<size_t>(node.Mark().pos) + bad);
        location.length = 1;
    }
    auto& d = diagnostics_.error("E0116", location, fmt::format("`{}` is not valid UTF-8", what));
    d.label = value[bad] == '\0' ? std::string("NUL byte") : fmt::format("invalid byte 0x{:02x}", static_cast<unsigned char>(value[bad]));
    d.help = "spec files are UTF-8 text; re-save the file as UTF-8";
    return false;
}

std::optional<Located<int64_t>> YamlReader::integer(const YAML::Node& map, const char* key) {
    if (!map.IsMap()) return std::nullopt;
    YAML::Node node = map[key];
    if (!node) return std::nullopt;
    if (node.IsScalar()) {
        const std::string& text = node.Scalar();
        int64_t value = 0;
        auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (status == std::errc() && end == text.data() + text.size() && !text.empty()) return Located<int64_t>{value, locate(node)};
    }
    auto& d = diagnostics_.error("E0102", node.IsNull() ? keyLocation(map, key) : locate(node),
                                 fmt::format("`{}` must be an integer, found {}", key, node.IsScalar() ? "`" + node.Scalar() + "`" : nodeKind(node)));
    d.label = "expected an integer";
    return std::nullopt;
}

} // namespace pipec::spec
