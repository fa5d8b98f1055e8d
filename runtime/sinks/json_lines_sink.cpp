#include "runtime/sinks/json_lines_sink.h"

#include <fmt/format.h>

#include <cmath>

namespace pipec::runtime {

std::string formatTimestamp(int64_t millis) {
    int64_t days = millis >= 0 ? millis / 86'400'000 : -((-(millis + 1)) / 86'400'000) - 1;
    int64_t rest = millis - days * 86'400'000;
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t year = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    year += month <= 2;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month, day, rest / 3'600'000, rest / 60'000 % 60,
                       rest / 1000 % 60, rest % 1000);
}

namespace {

void appendString(std::string& out, std::string_view text) {
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
    case plan::VARCHAR: appendString(out, value.s); break;
    case plan::BYTES: appendString(out, base64(value.s)); break;
    case plan::TIMESTAMP: appendString(out, formatTimestamp(value.i)); break;
    default: out += std::to_string(value.i);
    }
}

void JsonLinesSink::open(const std::vector<plan::OutputColumn>& columns) {
    columns_ = columns;
    keys_.clear();
    for (const auto& column : columns) {
        std::string key;
        appendString(key, column.name());
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
