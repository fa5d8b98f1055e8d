#include "runtime/kafka/kafka_job_status.h"

#include "runtime/kafka/kafka_consumer.h"

#include <fmt/format.h>

#include <algorithm>

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

namespace {

/// A Prometheus label value: backslash, double quote and newline escaped, as the text format requires.
std::string labelValue(std::string_view text) {
    std::string escaped;
    for (char c : text) {
        if (c == '\\' || c == '"') escaped += '\\';
        if (c == '\n') escaped += "\\n";
        else escaped += c;
    }
    return escaped;
}

} // namespace

std::vector<SinkHealth> JobStatus::sinkHealth() const {
    std::vector<SinkHealth> health;
    if (const RowSink* current = sink.load()) current->health(health);
    return health;
}

std::string JobStatus::notReadyReason(int64_t sinkDownThresholdMs) const {
    if (!running.load() && !exchangeRunning.load()) return "not consuming: no partition assigned yet (or the job stopped)";
    if (sinkDownThresholdMs <= 0) return {};
    for (const auto& health : sinkHealth())
        if (health.blockedMs >= sinkDownThresholdMs)
            return fmt::format("sink `{}` blocked for {} ms (threshold {} ms): its writes are not getting through",
                               health.name, health.blockedMs, sinkDownThresholdMs);
    return {};
}

bool isDeadLettered(BadRecordReason reason) { return reason != BadRecordReason::Tombstone; }

uint64_t JobStatus::badTotal() const {
    uint64_t total = 0;
    for (const auto& counter : bad) total += counter.load();
    return total;
}

void JobStatus::countCommit(CommitResult result) {
    switch (result) {
    case CommitResult::committed: commits++; break;
    case CommitResult::deferred: commitsDeferred++; break;
    case CommitResult::failed: commitFailures++; break;
    }
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
    metric("pipec_offset_commits_deferred_total", "counter",
           "Periodic offset commits (checkpoints) deferred while the consumer group rebalanced.", commitsDeferred.load());
    metric("pipec_checkpoints_total", "counter", "Task checkpoints written to the changelog (one per partition).", checkpoints.load());
    metric("pipec_changelog_records_total", "counter", "Records written to the changelog topic.", changelogRecords.load());
    metric("pipec_changelog_bytes_total", "counter", "Key and value bytes written to the changelog topic.", changelogBytes.load());
    metric("pipec_checkpoint_seconds_total", "counter",
           "Time spent writing checkpoints to the changelog (after the sink flush) and committing their offsets.",
           fmt::format("{:.6f}", static_cast<double>(checkpointMicros.load()) / 1e6));
    metric("pipec_restored_state_entries_total", "counter", "State entries restored from the changelog.", restoredEntries.load());
    if (lastCheckpointMs.load() > 0)
        metric("pipec_last_checkpoint_ms", "gauge", "Wall-clock time of the last committed checkpoint (epoch millis).",
               lastCheckpointMs.load());
    int64_t watermark = watermarkMs.load();
    if (watermark != std::numeric_limits<int64_t>::min())
        metric("pipec_watermark_ms", "gauge", "Event-time watermark (epoch millis).", watermark);
    metric("pipec_consumer_lag_records", "gauge", "Records behind the partitions' high watermarks (-1 unknown).",
           lag.load());
    metric("pipec_assigned_partitions", "gauge", "Partitions assigned to this member.", assignedPartitions.load());
    metric("pipec_active_partitions", "gauge", "Assigned partitions that are not idle.", activePartitions.load());
    metric("pipec_uncommitted_records", "gauge",
           "Records taken since the last committed checkpoint, over the assigned partitions: what their next owners would "
           "read again if this member died now.",
           uncommittedRecords.load());
    metric("pipec_split_keys_total", "counter",
           "GROUP BY keys seen in a second source partition (jobs without an exchange; each is a partial feature).", splitKeys.load());
    if (exchangeRecordsOut.load() > 0 || exchangeMarkersOut.load() > 0 || exchangeRecordsIn.load() > 0 || exchangeRunning.load() ||
        exchangeFiltered.load() > 0) {
        metric("pipec_exchange_filtered_total", "counter", "Rows the WHERE dropped in stage 1, before the exchange.", exchangeFiltered.load());
        metric("pipec_exchange_records_out_total", "counter", "Rows stage 1 produced to the repartition topic.", exchangeRecordsOut.load());
        metric("pipec_exchange_bytes_out_total", "counter", "Key and value bytes of those rows.", exchangeBytesOut.load());
        metric("pipec_exchange_markers_out_total", "counter", "Watermark markers stage 1 produced.", exchangeMarkersOut.load());
        metric("pipec_exchange_records_in_total", "counter", "Repartition records (rows and markers) stage 2 consumed.",
               exchangeRecordsIn.load());
        metric("pipec_exchange_duplicates_total", "counter", "Rows stage 1 produced again after a restart, dropped by stage 2.",
               exchangeDuplicates.load());
        metric("pipec_exchange_consumer_lag_records", "gauge", "Stage 2's records behind the repartition topic's end (-1 unknown).",
               exchangeLag.load());
        metric("pipec_exchange_assigned_partitions", "gauge", "Repartition partitions assigned to this member's stage 2.",
               exchangeAssignedPartitions.load());
        std::lock_guard lock(exchangeMutex);
        if (!upstreamWatermarks.empty()) {
            int64_t highest = std::numeric_limits<int64_t>::min();
            for (const auto& [partition, watermark] : upstreamWatermarks) highest = std::max(highest, watermark);
            out += "# HELP pipec_exchange_upstream_watermark_ms Per source partition (stage-1 task): the watermark its markers gave "
                   "stage 2.\n# TYPE pipec_exchange_upstream_watermark_ms gauge\n";
            for (const auto& [partition, watermark] : upstreamWatermarks)
                out += fmt::format("pipec_exchange_upstream_watermark_ms{{{},source_partition=\"{}\"}} {}\n", label, partition, watermark);
            out += "# HELP pipec_exchange_upstream_watermark_lag_ms Per source partition: how far its watermark is behind the most "
                   "advanced one (what it holds stage 2 back by).\n# TYPE pipec_exchange_upstream_watermark_lag_ms gauge\n";
            for (const auto& [partition, watermark] : upstreamWatermarks)
                out += fmt::format("pipec_exchange_upstream_watermark_lag_ms{{{},source_partition=\"{}\"}} {}\n", label, partition,
                                   highest - watermark);
        }
    }
    // One series per sink that reports its health (Redis); local outputs (stdout, files) report none.
    std::vector<SinkHealth> sinks = sinkHealth();
    if (sinks.empty()) return out;
    auto sinkMetric = [&](const char* name, const char* type, const char* help, auto value) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
        for (const auto& health : sinks)
            out += fmt::format("{}{{{},sink=\"{}\"}} {}\n", name, label, labelValue(health.name), value(health));
    };
    sinkMetric("pipec_sink_up", "gauge", "0 while the sink is blocked or its last attempt to reach its backend failed, else 1.",
               [](const SinkHealth& health) { return health.up ? 1 : 0; });
    sinkMetric("pipec_sink_blocked_seconds", "gauge",
               "How long the sink's delivery in progress has been blocked waiting for its backend (0: not blocked).",
               [](const SinkHealth& health) { return fmt::format("{:.3f}", health.blockedMs / 1000.0); });
    sinkMetric("pipec_sink_blocked_seconds_total", "counter", "Time the sink's deliveries were blocked, in total.",
               [](const SinkHealth& health) { return fmt::format("{:.3f}", health.blockedTotalMs / 1000.0); });
    sinkMetric("pipec_sink_retries_total", "counter", "Failed delivery attempts of the sink that were retried.",
               [](const SinkHealth& health) { return health.retries; });
    return out;
}

} // namespace pipec::runtime
