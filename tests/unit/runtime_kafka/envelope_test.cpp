#include "runtime/sources/envelope.h"

#include <doctest/doctest.h>

using namespace pipec::runtime;

TEST_CASE("envelope headers round-trip through encode and parse") {
    EventEnvelope envelope;
    envelope.createdAtMs = 1767225600123;
    envelope.source = "order-service";
    envelope.encoding = PayloadEncoding::ConfluentProtobuf;
    envelope.schema = "com.doordash.timeline_events.StoreTimelineEvent";
    HeaderList headers = encodeEnvelope(envelope);
    REQUIRE(headers.size() == 4);
    CHECK(headers[0] == std::pair<std::string, std::string>("event-created-at", "1767225600123"));
    CHECK(headers[2].second == "confluent-protobuf");

    EnvelopeParseResult parsed = parseEnvelope(headers);
    CHECK(parsed.error == EnvelopeError::None);
    CHECK(parsed.envelope.createdAtMs == 1767225600123);
    CHECK(parsed.envelope.source == "order-service");
    CHECK(parsed.envelope.encoding == PayloadEncoding::ConfluentProtobuf);
    CHECK(parsed.envelope.schema == envelope.schema);
}

TEST_CASE("missing headers leave fields absent without an error") {
    EnvelopeParseResult parsed = parseEnvelope({{"traceparent", "x"}});
    CHECK(parsed.error == EnvelopeError::None);
    CHECK_FALSE(parsed.envelope.createdAtMs.has_value());
    CHECK(parsed.envelope.encoding == PayloadEncoding::Unspecified);
    CHECK(encodeEnvelope(EventEnvelope{}).empty());
}

TEST_CASE("invalid created-at values are rejected") {
    for (const char* bad : {"", "12a", " 12", "+12", "1.5", "99999999999999999999", "9223372036854775808",
                            "2026-01-01T00:00:00Z", "17640500/0123", "1764050:00123", "-", "--5"}) {
        CAPTURE(bad);
        EnvelopeParseResult parsed = parseEnvelope({{"event-created-at", bad}});
        CHECK(parsed.error == EnvelopeError::InvalidCreatedAt);
        CHECK(parsed.detail == bad);
    }
    CHECK(parseEpochMillis("-5") == -5);
    CHECK(parseEpochMillis("0") == 0);
    CHECK(parseEpochMillis("1764050000123") == 1764050000123);
    CHECK(parseEpochMillis("999999999999999999") == 999999999999999999);         // 18 digits: the fast path
    CHECK(parseEpochMillis("9223372036854775807") == INT64_MAX);                   // 19 digits: checked parse
    CHECK(parseEpochMillis("-9223372036854775808") == INT64_MIN);
}

TEST_CASE("unknown encodings are rejected, known ones parse") {
    CHECK(parseEnvelope({{"event-encoding", "avro"}}).error == EnvelopeError::UnknownEncoding);
    CHECK(parseEnvelope({{"event-encoding", "JSON"}}).error == EnvelopeError::UnknownEncoding);
    CHECK(parseEnvelope({{"event-encoding", "json"}}).envelope.encoding == PayloadEncoding::Json);
    CHECK(parseEnvelope({{"event-encoding", "protobuf"}}).envelope.encoding == PayloadEncoding::Protobuf);
    CHECK(parseEnvelope({{"event-encoding", "confluent-protobuf"}}).envelope.encoding == PayloadEncoding::ConfluentProtobuf);
    CHECK(parseEnvelope({{"event-encoding", "protobut"}}).error == EnvelopeError::UnknownEncoding);
    CHECK(parseEnvelope({{"event-encoding", ""}}).error == EnvelopeError::UnknownEncoding);
}

TEST_CASE("the last value of a repeated header wins") {
    EnvelopeParseResult parsed = parseEnvelope({{"event-created-at", "bad"}, {"event-created-at", "42"}});
    CHECK(parsed.error == EnvelopeError::None);
    CHECK(parsed.envelope.createdAtMs == 42);
}
