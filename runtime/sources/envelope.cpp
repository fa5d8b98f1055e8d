#include "runtime/sources/envelope.h"

#include "runtime/core/civil_time.h"

#include <cctype>
#include <charconv>

namespace pipec::runtime {

namespace {

bool digits(std::string_view text, size_t position, size_t count, int& value) {
    if (position + count > text.size()) return false;
    value = 0;
    for (size_t i = 0; i < count; ++i) {
        char c = text[position + i];
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

/// Skips a JSON value starting at `position` (string, number, literal, object, array); returns the end or npos.
size_t skipValue(const std::string& json, size_t position) {
    if (position >= json.size()) return std::string::npos;
    char c = json[position];
    if (c == '"') {
        for (size_t i = position + 1; i < json.size(); ++i) {
            if (json[i] == '\\') ++i;
            else if (json[i] == '"') return i + 1;
        }
        return std::string::npos;
    }
    if (c == '{' || c == '[') {
        int depth = 0;
        for (size_t i = position; i < json.size(); ++i) {
            char d = json[i];
            if (d == '"') {
                i = skipValue(json, i);
                if (i == std::string::npos) return i;
                --i;
            } else if (d == '{' || d == '[') {
                ++depth;
            } else if (d == '}' || d == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return std::string::npos;
    }
    size_t end = position;
    while (end < json.size() && json[end] != ',' && json[end] != '}' && json[end] != ']' && !std::isspace(static_cast<unsigned char>(json[end]))) ++end;
    return end;
}

size_t skipSpace(const std::string& json, size_t position) {
    while (position < json.size() && std::isspace(static_cast<unsigned char>(json[position]))) ++position;
    return position;
}

} // namespace

std::string_view encodingName(PayloadEncoding encoding) {
    switch (encoding) {
    case PayloadEncoding::Unspecified: return "";
    case PayloadEncoding::Protobuf: return "protobuf";
    case PayloadEncoding::ConfluentProtobuf: return "confluent-protobuf";
    case PayloadEncoding::Json: return "json";
    }
    return "";
}

std::optional<PayloadEncoding> parseEncodingName(std::string_view name) {
    // Runs for every consumed record that carries the header: the length decides which name to compare.
    switch (name.size()) {
    case 8: return name == "protobuf" ? std::optional(PayloadEncoding::Protobuf) : std::nullopt;
    case 18: return name == "confluent-protobuf" ? std::optional(PayloadEncoding::ConfluentProtobuf) : std::nullopt;
    case 4: return name == "json" ? std::optional(PayloadEncoding::Json) : std::nullopt;
    default: return std::nullopt;
    }
}

std::string_view envelopeErrorName(EnvelopeError error) {
    switch (error) {
    case EnvelopeError::None: return "none";
    case EnvelopeError::InvalidCreatedAt: return "invalid_created_at";
    case EnvelopeError::UnknownEncoding: return "unknown_encoding";
    }
    return "unknown";
}

std::optional<int64_t> parseEpochMillis(std::string_view text) {
    if (text.empty()) return std::nullopt;
    // Fast path for what producers send (runs for every consumed record): up to 18 plain digits cannot overflow.
    if (text.size() <= 18) {
        uint64_t digits = 0;
        bool plain = true;
        for (char c : text) {
            unsigned digit = static_cast<unsigned char>(c) - unsigned{'0'};
            plain &= digit <= 9;
            digits = digits * 10 + digit;
        }
        if (plain) return static_cast<int64_t>(digits);
    }
    int64_t value = 0;
    // from_chars accepts a leading '-' but no '+' or spaces, which is the strictness we want.
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

HeaderList toHeaderList(std::span<const HeaderView> headers) {
    HeaderList owned;
    owned.reserve(headers.size());
    for (const auto& [name, value] : headers) owned.emplace_back(name, value);
    return owned;
}

static_assert(kHeaderSource.size() == kHeaderSchema.size() && kHeaderCreatedAt.size() != kHeaderEncoding.size() &&
              kHeaderCreatedAt.size() != kHeaderSource.size() && kHeaderEncoding.size() != kHeaderSource.size());

EnvelopeParseResult parseEnvelope(std::span<const HeaderView> headers) {
    // Take the last value of each header first, then validate, so that a later valid header overrides an
    // earlier broken one.
    std::optional<std::string_view> createdAt;
    std::optional<std::string_view> encoding;
    EnvelopeParseResult result;
    for (const auto& [name, value] : headers) {
        // The names differ in length except source/schema, so one comparison decides each header (this runs for
        // every consumed record).
        switch (name.size()) {
        case kHeaderCreatedAt.size():
            if (name == kHeaderCreatedAt) createdAt = value;
            break;
        case kHeaderEncoding.size():
            if (name == kHeaderEncoding) encoding = value;
            break;
        case kHeaderSource.size():
            if (name == kHeaderSource) result.envelope.source = value;
            else if (name == kHeaderSchema) result.envelope.schema = value;
            break;
        default: break;
        }
    }
    if (createdAt) {
        result.envelope.createdAtMs = parseEpochMillis(*createdAt);
        if (!result.envelope.createdAtMs) {
            result.error = EnvelopeError::InvalidCreatedAt;
            result.detail = *createdAt;
            return result;
        }
    }
    if (encoding) {
        auto parsed = parseEncodingName(*encoding);
        if (!parsed) {
            result.error = EnvelopeError::UnknownEncoding;
            result.detail = *encoding;
            return result;
        }
        result.envelope.encoding = *parsed;
    }
    return result;
}

EnvelopeParseResult parseEnvelope(const HeaderList& headers) {
    std::vector<HeaderView> views(headers.begin(), headers.end());
    return parseEnvelope(views);
}

HeaderList encodeEnvelope(const EventEnvelope& envelope) {
    HeaderList headers;
    if (envelope.createdAtMs) headers.emplace_back(kHeaderCreatedAt, std::to_string(*envelope.createdAtMs));
    if (!envelope.source.empty()) headers.emplace_back(kHeaderSource, envelope.source);
    if (envelope.encoding != PayloadEncoding::Unspecified)
        headers.emplace_back(kHeaderEncoding, std::string(encodingName(envelope.encoding)));
    if (!envelope.schema.empty()) headers.emplace_back(kHeaderSchema, envelope.schema);
    return headers;
}

std::optional<int64_t> parseIsoTimestamp(std::string_view text) {
    int year, month, day, hour, minute, second;
    if (!digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' || !digits(text, 5, 2, month) || text[7] != '-' ||
        !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != ' ') || !digits(text, 11, 2, hour) || text[13] != ':' ||
        !digits(text, 14, 2, minute) || text[16] != ':' || !digits(text, 17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    size_t position = 19;
    int64_t millis = 0;
    if (position < text.size() && text[position] == '.') {
        ++position;
        int scale = 100;
        size_t start = position;
        while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
            if (scale > 0) millis += (text[position] - '0') * scale;
            scale /= 10;
            ++position;
        }
        if (position == start) return std::nullopt;
    }
    int64_t offsetMinutes = 0;
    if (position < text.size() && (text[position] == 'Z' || text[position] == 'z')) {
        ++position;
    } else if (position < text.size() && (text[position] == '+' || text[position] == '-')) {
        int offsetHour, offsetMinute;
        if (!digits(text, position + 1, 2, offsetHour) || position + 3 >= text.size() || text[position + 3] != ':' ||
            !digits(text, position + 4, 2, offsetMinute))
            return std::nullopt;
        offsetMinutes = (offsetHour * 60 + offsetMinute) * (text[position] == '-' ? -1 : 1);
        position += 6;
    }
    if (position != text.size()) return std::nullopt;
    int64_t days = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return (((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + millis - offsetMinutes * 60'000;
}

std::optional<int64_t> extractEnvelopeTime(std::string& json, bool& ok) {
    ok = true;
    size_t position = skipSpace(json, 0);
    if (position >= json.size() || json[position] != '{') return std::nullopt;
    ++position;
    while (true) {
        position = skipSpace(json, position);
        if (position >= json.size() || json[position] == '}') return std::nullopt;
        size_t memberStart = position;
        size_t keyEnd = skipValue(json, position);
        if (keyEnd == std::string::npos || json[position] != '"') return std::nullopt;
        std::string_view key(json.data() + position + 1, keyEnd - position - 2);
        size_t colon = skipSpace(json, keyEnd);
        if (colon >= json.size() || json[colon] != ':') return std::nullopt;
        size_t valueStart = skipSpace(json, colon + 1);
        size_t valueEnd = skipValue(json, valueStart);
        if (valueEnd == std::string::npos) return std::nullopt;
        size_t after = skipSpace(json, valueEnd);
        if (key == "_time") {
            std::string value = json.substr(valueStart, valueEnd - valueStart);
            std::optional<int64_t> millis;
            if (!value.empty() && value.front() == '"') {
                std::string_view text = std::string_view(value).substr(1, value.size() - 2);
                millis = parseEpochMillis(text);
                if (!millis) millis = parseIsoTimestamp(text);
            } else {
                int64_t number = 0;
                auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), number);
                if (status == std::errc() && end == value.data() + value.size()) millis = number;
            }
            if (!millis) ok = false;
            // Remove the member and one adjacent comma so the rest stays valid JSON.
            if (after < json.size() && json[after] == ',') {
                json.erase(memberStart, skipSpace(json, after + 1) - memberStart);
            } else {
                size_t eraseStart = memberStart;
                size_t before = json.find_last_not_of(" \t\r\n", memberStart - 1);
                if (before != std::string::npos && json[before] == ',') eraseStart = before;
                json.erase(eraseStart, after - eraseStart);
            }
            return millis;
        }
        if (after >= json.size()) return std::nullopt;
        if (json[after] == ',') position = after + 1;
        else return std::nullopt;
    }
}

} // namespace pipec::runtime
