#include "runtime/kafka/record_admission.h"

#include "runtime/kafka/kafka_consumer.h"
#include "runtime/operators/pipeline_executor.h"
#include "runtime/sources/kafka_producer.h"

#include <fmt/format.h>

#include <limits>

namespace pipec::runtime {

RecordAdmission::RecordAdmission(const plan::Source& source, int64_t maxFutureSkewMs)
    : source_(source), timeFromEnvelope_(source.time_column() < 1),
      defaultEncoding_(source.format() == "json" ? PayloadEncoding::Json : PayloadEncoding::Protobuf), decoder_(source),
      futureGuard_(maxFutureSkewMs) {}

bool RecordAdmission::admit(const SourceRecordView& record, int64_t wallClockMs, Row& row, Rejection& rejection) {
    auto reject = [&rejection](BadRecordReason reason, std::string detail) {
        rejection.reason = reason;
        rejection.detail = std::move(detail);
        return false;
    };
    // Not events: a tombstone (NULL value) or an empty value would decode as an event with every field at its default.
    if (record.valueIsNull) return reject(BadRecordReason::Tombstone, record.key.empty() ? "" : fmt::format("key `{}`", record.key));
    if (record.payload.empty()) return reject(BadRecordReason::EmptyValue, "");
    EnvelopeParseResult envelope = parseEnvelope(record.headers);
    if (envelope.error == EnvelopeError::InvalidCreatedAt) return reject(BadRecordReason::InvalidCreatedAt, std::move(envelope.detail));
    if (envelope.error == EnvelopeError::UnknownEncoding) return reject(BadRecordReason::UnknownEncoding, std::move(envelope.detail));
    PayloadEncoding encoding = envelope.envelope.encoding == PayloadEncoding::Unspecified ? defaultEncoding_ : envelope.envelope.encoding;
    // A schema-registry id cannot be checked here; a message name must match the source's.
    if (encoding != PayloadEncoding::ConfluentProtobuf && !envelope.envelope.schema.empty() && envelope.envelope.schema != source_.message_type())
        return reject(BadRecordReason::SchemaMismatch, std::string(envelope.envelope.schema));
    if (timeFromEnvelope_ && !envelope.envelope.createdAtMs) return reject(BadRecordReason::MissingTime, "no event-created-at header");
    int64_t envelopeTime = envelope.envelope.createdAtMs.value_or(std::numeric_limits<int64_t>::min());
    std::string_view payload = record.payload;
    if (encoding == PayloadEncoding::ConfluentProtobuf) {
        std::optional<std::string_view> stripped = stripConfluentFraming(payload);
        if (!stripped) return reject(BadRecordReason::UndecodablePayload, "not in the Confluent wire format");
        payload = *stripped;
    }
    // The decoders size and reset every column of the reused row.
    RecordDecoder::Status outcome = encoding == PayloadEncoding::Json ? decoder_.decodeJson(payload, envelopeTime, row, &error_)
                                                                      : decoder_.decodeProtobuf(payload, envelopeTime, row, &error_);
    if (outcome != RecordDecoder::Status::Ok)
        return reject(outcome == RecordDecoder::Status::MissingTime ? BadRecordReason::MissingTime : BadRecordReason::UndecodablePayload,
                      error_);
    if (row.empty() || row[0].isNull) return reject(BadRecordReason::MissingTime, "the time field is NULL");
    const int64_t time = row[0].i;
    // Before the watermark sees it: one record from the far future would otherwise make every other one late.
    if (time <= -kEventTimeLimit || time >= kEventTimeLimit) return reject(BadRecordReason::TimeOutOfRange, fmt::format("event time {} ms", time));
    // One record from the future (a time in microseconds, a broken clock) would move the watermark past every other
    // record, and the commit would keep it there.
    if (futureGuard_.check(time, wallClockMs) == TimeVerdict::InFuture)
        return reject(BadRecordReason::TimeInFuture,
                      fmt::format("event time {} ms is more than {} ms ahead of the wall clock", time, futureGuard_.maxFutureSkewMs()));
    return true;
}


void RejectedRecords::reject(const KafkaRecord& record, BadRecordReason reason, std::string_view detail) {
    uint64_t count = ++status_.bad[static_cast<size_t>(reason)];
    if (count <= 10 || count % 1000 == 0)
        log_(fmt::format("job {}: rejected record {}/{}@{}: {}{}{}", job_, record.topic, record.partition, record.offset,
                         badRecordReasonName(reason), detail.empty() ? "" : ": ", detail));
    if (!deadLetters_ || !isDeadLettered(reason)) return;
    HeaderList headers = toHeaderList(record.headers);
    headers.emplace_back(kHeaderDeadLetterReason, std::string(badRecordReasonName(reason)));
    deadLetters_->produce(deadLetterTopic_, record.key, record.payload, headers);
    status_.deadLettered++;
}

} // namespace pipec::runtime
