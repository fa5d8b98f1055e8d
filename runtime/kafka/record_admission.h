#pragma once

#include "runtime/core/value.h"
#include "runtime/formats/record_decoder.h"
#include "runtime/kafka/kafka_job_status.h"
#include "runtime/sources/envelope.h"
#include "runtime/sources/event_time_guard.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace pipec::runtime {

/// Why a record is not an event, and what to say about it (logged with the record's topic/partition@offset).
struct Rejection {
    BadRecordReason reason = BadRecordReason::UndecodablePayload;
    std::string detail;
};

/// One Kafka record as the admission sees it.
struct SourceRecordView {
    bool valueIsNull = false;         // a tombstone
    std::string_view key;
    std::string_view payload;
    std::span<const HeaderView> headers;
};

/// The checks that make a source record an event, in the order they apply: not-events (tombstone, empty value), the
/// envelope headers, the payload encoding and schema, decoding, and the event time (present, within ±2^60 ms, not
/// further ahead of the wall clock than the allowed skew). One implementation for every consumer of source records:
/// the Kafka job, the exchange's first stage, and `pipec test` (which gives the wall clock of its virtual clock).
class RecordAdmission {
public:
    RecordAdmission(const plan::Source& source, int64_t maxFutureSkewMs);

    /// Decodes the record into `row` (a reused row: every column is set) and returns true, or returns false with
    /// `rejection` filled. `wallClockMs` is the reference of the future-time guard.
    bool admit(const SourceRecordView& record, int64_t wallClockMs, Row& row, Rejection& rejection);

    const EventTimeGuard& futureGuard() const { return futureGuard_; }

private:
    const plan::Source& source_;
    const bool timeFromEnvelope_;
    const PayloadEncoding defaultEncoding_;
    RecordDecoder decoder_;
    const EventTimeGuard futureGuard_;
    std::string error_;
};

struct KafkaRecord;
class KafkaProducer;

/// What happens to a rejected source record: counted per reason in the job's status, logged (the first few of each
/// reason, then every 1000th, so a poisoned topic cannot flood the log), and copied to the dead-letter topic with a
/// `dlq-reason` header where the reason is dead-lettered.
class RejectedRecords {
public:
    RejectedRecords(JobStatus& status, std::string job, std::function<void(const std::string&)> log, KafkaProducer* deadLetters,
                    std::string deadLetterTopic)
        : status_(status), job_(std::move(job)), log_(std::move(log)), deadLetters_(deadLetters), deadLetterTopic_(std::move(deadLetterTopic)) {}
    void reject(const KafkaRecord& record, BadRecordReason reason, std::string_view detail);

private:
    JobStatus& status_;
    std::string job_;
    std::function<void(const std::string&)> log_;
    KafkaProducer* deadLetters_;
    std::string deadLetterTopic_;
};

} // namespace pipec::runtime
