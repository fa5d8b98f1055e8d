#include "tools/spec_test/json_scalar.h"

#include "runtime/sinks/json_lines_sink.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace pipec::spec_test {
namespace {

/// A JSON number: `-?digits(.digits)?([eE][+-]?digits)?` (a leading `+` or `.5` is not JSON, so YAML's `+1` stays a
/// string here rather than turning into text that is not JSON).
bool isJsonNumber(std::string_view text) {
    size_t i = 0;
    auto digits = [&] {
        size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        return i > start;
    };
    if (i < text.size() && text[i] == '-') ++i;
    if (!digits()) return false;
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == text.size();
}

bool parseInteger(const std::string& text, int64_t& value) {
    auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    return status == std::errc() && end == text.data() + text.size();
}

} // namespace

std::string quoteJson(std::string_view text) {
    // The sink's own quoting: row expectations are compared with what `pipec run --output` writes.
    std::string out;
    runtime::appendJsonString(out, text);
    return out;
}

JsonScalar JsonScalar::fromYaml(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    // yaml-cpp tags a quoted scalar `!` and a plain one `?`.
    if (node.Tag() == "!") return {Kind::String, text};
    if (node.IsNull() || text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return {Kind::Null, "null"};
    if (text == "true" || text == "True" || text == "TRUE") return {Kind::Bool, "true"};
    if (text == "false" || text == "False" || text == "FALSE") return {Kind::Bool, "false"};
    if (isJsonNumber(text)) return {Kind::Number, text};
    return {Kind::String, text};
}

JsonScalar JsonScalar::fromJson(std::string_view json) {
    if (json == "null") return {Kind::Null, "null"};
    if (json == "true" || json == "false") return {Kind::Bool, std::string(json)};
    if (json.empty() || json.front() != '"') return {Kind::Number, std::string(json)};
    std::string text;
    for (size_t i = 1; i + 1 < json.size(); ++i) {
        if (json[i] != '\\' || i + 2 >= json.size()) {
            text += json[i];
            continue;
        }
        char escaped = json[++i];
        switch (escaped) {
        case 'n': text += '\n'; break;
        case 'r': text += '\r'; break;
        case 't': text += '\t'; break;
        case 'u':
            // JsonLinesSink escapes only control characters this way (\u00XX).
            if (i + 4 < json.size()) {
                text += static_cast<char>(std::strtol(std::string(json.substr(i + 1, 4)).c_str(), nullptr, 16));
                i += 4;
            }
            break;
        default: text += escaped;
        }
    }
    return {Kind::String, text};
}

bool JsonScalar::operator==(const JsonScalar& other) const {
    if (kind != other.kind) return false;
    if (kind != Kind::Number) return text == other.text;
    // Integers exactly (BIGINT values beyond 2^53 must not compare equal through doubles), others as doubles.
    int64_t left = 0, right = 0;
    if (parseInteger(text, left) && parseInteger(other.text, right)) return left == right;
    return std::strtod(text.c_str(), nullptr) == std::strtod(other.text.c_str(), nullptr);
}

std::string JsonScalar::json() const { return kind == Kind::String ? quoteJson(text) : text; }

std::string JsonScalar::yaml() const {
    if (kind != Kind::String) return text;
    // Plain only when YAML reads it back as this same string: simple characters, and not a number, boolean or null.
    bool safe = !text.empty() && text.front() != '-';
    for (char c : text) safe = safe && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
    if (safe) {
        YAML::Node plain(text);
        plain.SetTag("?");
        safe = fromYaml(plain).kind == Kind::String && text != "~";
    }
    return safe ? text : quoteJson(text);
}

std::string yamlToJson(const YAML::Node& node) {
    if (node.IsMap()) {
        std::string out = "{";
        bool first = true;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (!first) out += ',';
            first = false;
            out += quoteJson(it->first.Scalar()) + ":" + yamlToJson(it->second);
        }
        return out + "}";
    }
    if (node.IsSequence()) {
        std::string out = "[";
        for (size_t i = 0; i < node.size(); ++i) out += (i ? "," : "") + yamlToJson(node[i]);
        return out + "]";
    }
    if (!node.IsDefined() || node.IsNull()) return "null";
    return JsonScalar::fromYaml(node).json();
}

} // namespace pipec::spec_test
