#include "runtime/sources/kafka_job_status.h"

#include <fmt/format.h>

namespace pipec::runtime {

std::string_view badRecordReasonName(BadRecordReason reason) {
    switch (reason) {
    case BadRecordReason::InvalidCreatedAt: return "invalid_created_at";
    case BadRecordReason::UnknownEncoding: return "unknown_encoding";
    case BadRecordReason::SchemaMismatch: return "schema_mismatch";
    case BadRecordReason::MissingTime: return "missing_time";
    case BadRecordReason::UndecodablePayload: return "undecodable_payload";
    case BadRecordReason::TimeOutOfRange: return "time_out_of_range";
    case BadRecordReason::TimeInFuture: return "time_in_future";
    case BadRecordReason::Tombstone: return "tombstone";
    case BadRecordReason::EmptyValue: return "empty_value";
    case BadRecordReason::kCount: break;
    }
    return "unknown";
}

bool isDeadLettered(BadRecordReason reason) { return reason != BadRecordReason::Tombstone; }

uint64_t JobStatus::badTotal() const {
    uint64_t total = 0;
    for (const auto& counter : bad) total += counter.load();
    return total;
}

std::string JobStatus::prometheusText(const std::string& jobName) const {
    std::string out;
    std::string label = fmt::format("job=\"{}\"", jobName);
    auto metric = [&](const char* name, const char* type, const char* help, auto value) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}{{{}}} {}\n", name, help, name, type, name, label, value);
    };
    metric("pipec_records_in_total", "counter", "Kafka records consumed.", recordsIn.load());
    metric("pipec_records_decoded_total", "counter", "Records decoded into source rows.", decoded.load());
    out += "# HELP pipec_records_bad_total Records rejected, by reason.\n# TYPE pipec_records_bad_total counter\n";
    for (size_t i = 0; i < bad.size(); ++i)
        out += fmt::format("pipec_records_bad_total{{{},reason=\"{}\"}} {}\n", label,
                           badRecordReasonName(static_cast<BadRecordReason>(i)), bad[i].load());
    metric("pipec_records_dead_lettered_total", "counter", "Rejected records copied to the dead-letter topic.",
           deadLettered.load());
    metric("pipec_rows_late_total", "counter", "Rows dropped from windows that had already fired.", late.load());
    metric("pipec_rows_out_total", "counter", "Output rows written to the sink.", rowsOut.load());
    metric("pipec_offset_commits_total", "counter", "Successful offset commits.", commits.load());
    metric("pipec_offset_commit_failures_total", "counter", "Failed offset commits.", commitFailures.load());
    int64_t watermark = watermarkMs.load();
    if (watermark != std::numeric_limits<int64_t>::min())
        metric("pipec_watermark_ms", "gauge", "Event-time watermark (epoch millis).", watermark);
    metric("pipec_consumer_lag_records", "gauge", "Records behind the partitions' high watermarks (-1 unknown).",
           lag.load());
    metric("pipec_assigned_partitions", "gauge", "Partitions assigned to this member.", assignedPartitions.load());
    metric("pipec_active_partitions", "gauge", "Assigned partitions that are not idle.", activePartitions.load());
    return out;
}

} // namespace pipec::runtime
