#include "runtime/sinks/json_lines_sink.h"

#include "runtime/core/civil_time.h"

#include <fmt/format.h>

#include <cmath>

namespace pipec::runtime {

std::string formatTimestamp(int64_t millis) {
    CivilTime t = civilFromMillis(millis);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond);
}

namespace {

std::string base64(std::string_view bytes) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
        out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
    }
    if (i + 1 == bytes.size()) {
        uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
        out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], '=', '='};
    } else if (i + 2 == bytes.size()) {
        uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
        out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
    }
    return out;
}

} // namespace

void appendJsonString(std::string& out, std::string_view text) {
    out += '"';
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) out += fmt::format("\\u{:04x}", c);
            else out += static_cast<char>(c);
        }
    }
    out += '"';
}

void appendJsonValue(std::string& out, const Value& value, plan::TypeId type) {
    if (value.isNull) {
        out += "null";
        return;
    }
    switch (type) {
    case plan::BOOLEAN: out += value.i ? "true" : "false"; break;
    case plan::FLOAT:
    case plan::DOUBLE:
        if (!std::isfinite(value.d)) out += "null";
        else out += fmt::format("{}", value.d);
        break;
    case plan::VARCHAR: appendJsonString(out, value.s); break;
    case plan::BYTES: appendJsonString(out, base64(value.s)); break;
    case plan::TIMESTAMP: appendJsonString(out, formatTimestamp(value.i)); break;
    default: out += std::to_string(value.i);
    }
}

std::string formatJsonRow(const Row& row, const std::vector<plan::OutputColumn>& columns) {
    std::string out = "{";
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) {
        if (i) out += ',';
        appendJsonString(out, columns[i].name());
        out += ':';
        appendJsonValue(out, row[i], columns[i].type());
    }
    return out + "}";
}

void JsonLinesSink::open(const std::vector<plan::OutputColumn>& columns) {
    columns_ = columns;
    keys_.clear();
    for (const auto& column : columns) {
        std::string key;
        appendJsonString(key, column.name());
        keys_.push_back(key + ":");
    }
}

void JsonLinesSink::write(const Row& row) {
    line_.clear();
    line_ += '{';
    for (size_t i = 0; i < columns_.size() && i < row.size(); ++i) {
        if (i) line_ += ',';
        line_ += keys_[i];
        appendJsonValue(line_, row[i], columns_[i].type());
    }
    line_ += "}\n";
    out_ << line_;
}

void JsonLinesSink::flush() { out_.flush(); }

} // namespace pipec::runtime
