#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipec::runtime {

/// Kafka record headers as name/value pairs, in record order (a name may repeat; the last one wins).
using HeaderList = std::vector<std::pair<std::string, std::string>>;
/// A header read in place (from a consumed record): valid only as long as the record it belongs to.
using HeaderView = std::pair<std::string_view, std::string_view>;
/// Copies viewed headers into owned ones (for records kept beyond their consumption, such as dead letters).
HeaderList toHeaderList(std::span<const HeaderView> headers);

/// Header names of the event envelope (see docs/event-envelope.md).
inline constexpr std::string_view kHeaderCreatedAt = "event-created-at";
inline constexpr std::string_view kHeaderSource = "event-source";
inline constexpr std::string_view kHeaderEncoding = "event-encoding";
inline constexpr std::string_view kHeaderSchema = "event-schema";
/// Added to records copied to a dead-letter topic: why the record was rejected.
inline constexpr std::string_view kHeaderDeadLetterReason = "dlq-reason";

/// How the payload (the Kafka record value) is encoded.
enum class PayloadEncoding {
    Unspecified,       // no `event-encoding` header: the source's configured format applies
    Protobuf,          // binary Protobuf of the schema's message
    ConfluentProtobuf, // Confluent Schema Registry framing (magic 0, schema id, message indexes) + Protobuf
    Json,              // Protobuf JSON mapping of the schema's message
};

std::string_view encodingName(PayloadEncoding encoding);
/// Parses `protobuf` | `confluent-protobuf` | `json` (exact, lower case).
std::optional<PayloadEncoding> parseEncodingName(std::string_view name);

/// The metadata that travels with every event in Kafka headers, separate from the payload.
struct EventEnvelope {
    std::optional<int64_t> createdAtMs; // epoch milliseconds; absent when the header is missing
    std::string source;                 // free text: the producing service
    PayloadEncoding encoding = PayloadEncoding::Unspecified;
    std::string schema;                 // fully-qualified message name or a schema-registry id
};

/// Why an envelope could not be read. `None` means the envelope is usable (created-at may still be absent:
/// whether that matters depends on the source's time field, so it is not an envelope error).
enum class EnvelopeError {
    None,
    InvalidCreatedAt, // present but not a decimal integer that fits in int64
    UnknownEncoding,  // present but not one of the known encodings
};

std::string_view envelopeErrorName(EnvelopeError error);

/// An envelope as parsed from headers: its text fields view the header values (no copies on the hot path).
struct EnvelopeView {
    std::optional<int64_t> createdAtMs;
    std::string_view source;
    PayloadEncoding encoding = PayloadEncoding::Unspecified;
    std::string_view schema;
};

struct EnvelopeParseResult {
    EnvelopeView envelope;  // views into the parsed headers
    EnvelopeError error = EnvelopeError::None;
    std::string detail; // the offending header value, for logs
};

/// Reads the envelope from record headers. Unknown headers are ignored; when a name repeats, the last value wins
/// (the Kafka convention for appended headers). The result's text fields view `headers`.
EnvelopeParseResult parseEnvelope(std::span<const HeaderView> headers);
EnvelopeParseResult parseEnvelope(const HeaderList& headers);

/// The headers that carry `envelope` (absent fields produce no header).
HeaderList encodeEnvelope(const EventEnvelope& envelope);

/// Parses a decimal epoch-millisecond value (optional leading '-', digits only, no spaces).
std::optional<int64_t> parseEpochMillis(std::string_view text);

/// Parses `2026-01-01T00:00:20.000Z` (also with `+HH:MM` offsets, a space instead of `T`, or no fraction) to epoch ms.
std::optional<int64_t> parseIsoTimestamp(std::string_view text);

/// The envelope time of an event written as JSON (a replay file, `pipec produce --from`, `pipec run --seed`): removes
/// a top-level `"_time"` member from a JSON object text and returns its value in epoch millis (nullopt when absent).
/// The value is an integer (epoch millis), or a string holding epoch millis or an ISO-8601 timestamp; `ok` is false
/// when `_time` is present but none of these.
std::optional<int64_t> extractEnvelopeTime(std::string& json, bool& ok);

} // namespace pipec::runtime
