#pragma once

#include "runtime/core/row_sink.h"
#include "runtime/sources/kafka_job.h"

#include <pipec/plan.pb.h>

#include <atomic>

namespace pipec::runtime {

/// Consumes the pipeline's source topic as a consumer-group member and runs every record through decode → executor
/// → `sink` until `stop` becomes true (or, with `untilEnd`, every partition is drained and all windows fired).
///
/// Delivery is at-least-once for rows the sink received: offsets are committed only after `sink.flush()` returned
/// (every `commitIntervalMs` / `commitEveryRecords`, before partitions are revoked, and at shutdown). Window state
/// that has not fired yet lives in memory only, so after a crash the rows of still-open windows are re-read only if
/// their offsets were not committed yet; see docs/event-envelope.md ("Delivery guarantees").
///
/// Rejected records (see BadRecordReason) are counted in `status`, logged with topic/partition/offset and, with a
/// dead-letter topic, copied there with their original headers plus `dlq-reason`.
/// Returns 0 on a clean stop; throws std::runtime_error on a fatal Kafka or sink error (after closing the consumer
/// without committing what the sink did not acknowledge).
int runKafkaJob(const plan::Pipeline& pipeline, const KafkaJobOptions& options, RowSink& sink,
                std::atomic<bool>& stop, JobStatus& status);

} // namespace pipec::runtime
