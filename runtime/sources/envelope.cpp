#include "runtime/sources/envelope.h"

#include <charconv>

namespace pipec::runtime {

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

} // namespace pipec::runtime
