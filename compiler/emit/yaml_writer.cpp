#include "compiler/emit/yaml_writer.h"

#include <fmt/format.h>

namespace pipec::emit {

std::string quoteYaml(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20) out += fmt::format("\\x{:02x}", c);
            else out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

YamlNode YamlNode::string(std::string value) {
    YamlNode node(Kind::Scalar);
    node.scalar_ = quoteYaml(value);
    return node;
}

YamlNode YamlNode::number(long long value) {
    YamlNode node(Kind::Scalar);
    node.scalar_ = std::to_string(value);
    return node;
}

YamlNode YamlNode::decimal(double value) {
    YamlNode node(Kind::Scalar);
    node.scalar_ = fmt::format("{}", value);
    return node;
}

YamlNode YamlNode::boolean(bool value) {
    YamlNode node(Kind::Scalar);
    node.scalar_ = value ? "true" : "false";
    return node;
}

YamlNode YamlNode::raw(std::string text) {
    YamlNode node(Kind::Scalar);
    node.scalar_ = std::move(text);
    return node;
}

YamlNode& YamlNode::set(std::string key, YamlNode value) {
    entries_.emplace_back(std::move(key), std::move(value));
    return entries_.back().second;
}

YamlNode& YamlNode::add(YamlNode value) {
    items_.push_back(std::move(value));
    return items_.back();
}

void YamlNode::print(std::string& out, int indent, bool inlineFirst) const {
    std::string pad(static_cast<size_t>(indent), ' ');
    bool first = true;
    auto prefix = [&]() -> std::string {
        std::string p = first && inlineFirst ? "" : pad;
        first = false;
        return p;
    };
    if (kind_ == Kind::Map) {
        for (const auto& [key, value] : entries_) {
            out += prefix() + key + ":";
            if (value.kind_ == Kind::Scalar) out += " " + value.scalar_ + "\n";
            else if (value.empty()) out += value.kind_ == Kind::Map ? " {}\n" : " []\n";
            else {
                out += "\n";
                value.print(out, value.kind_ == Kind::List ? indent : indent + 2, false);
            }
        }
    } else if (kind_ == Kind::List) {
        for (const auto& item : items_) {
            out += prefix() + "- ";
            if (item.kind_ == Kind::Scalar) out += item.scalar_ + "\n";
            else if (item.empty()) out += item.kind_ == Kind::Map ? "{}\n" : "[]\n";
            else item.print(out, indent + 2, true);
        }
    } else {
        out += prefix() + scalar_ + "\n";
    }
}

std::string YamlNode::print() const {
    std::string out;
    print(out, 0, false);
    return out;
}

} // namespace pipec::emit
