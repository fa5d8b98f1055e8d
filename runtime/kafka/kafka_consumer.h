#pragma once

#include "runtime/sources/envelope.h"
#include "runtime/kafka/kafka_partition_watermarks.h"

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::runtime {

/// One consumed record, valid only during the handler call.
struct KafkaRecord {
    const std::string& topic;
    int32_t partition;
    int64_t offset;
    std::string_view key;
    std::string_view payload;
    std::span<const HeaderView> headers; // views into the record: valid during the handler call only
    int64_t timestampMs; // the Kafka record timestamp (-1 when absent); not the event time
    /// Changes whenever the records start coming from another partition and at every poll (assignments change only
    /// inside a poll, before its records), so a handler can cache per-partition lookups for a run of records. Never 0.
    uint64_t run;
    /// True for a NULL value (a tombstone), which `payload` cannot tell from an empty one: both are empty views.
    bool valueIsNull = false;
};

struct KafkaConsumerOptions {
    std::string brokers;
    std::string groupId;
    std::vector<std::string> topics;
    /// Extra librdkafka properties (security settings, ...); they override pipec's defaults.
    std::map<std::string, std::string> properties;
    bool reportEndOfPartition = false; // needed to detect the end of a bounded run
    int sessionTimeoutMs = 6000;
    /// Static group membership (`group.instance.id`, KIP-345): a member restarted with the same id within the session
    /// timeout gets its partitions back without a rebalance of the group. Empty: dynamic membership.
    std::string instanceId{};
    /// Read record headers in place from the fetched bytes instead of through rd_kafka_message_headers(), which
    /// allocates per header (a third of the client's CPU per record with the envelope's four headers). Only on the
    /// librdkafka release whose message layout was checked (2.0.2, Debian bookworm), only for records whose header
    /// bytes are found right after their value, and cross-checked against the library's own parse every
    /// `headerCrossCheckEvery` records: a mismatch turns it off for good, with a log line.
    bool inPlaceHeaders = true;
    uint64_t headerCrossCheckEvery = 4096;
    /// Defer `commitProcessed(CommitWhen::groupSteady)` while the group rebalances, on librdkafka releases before 2.10:
    /// there, a commit that reaches the coordinator after the group moved to the next generation makes librdkafka
    /// declare this member's whole assignment lost (librdkafka issue #4059), so every partition restarts from its last
    /// checkpoint. The join state is read from librdkafka's `cgrp` debug log (the only place 2.0.2 exposes it).
    bool deferCommitsWhileRebalancing = true;
    std::function<void(const std::string&)> log;
};

/// What became of a commit (see KafkaConsumer::commitProcessed).
enum class CommitResult : uint8_t {
    committed,  // the coordinator took it (or there was nothing new to commit)
    deferred,   // not sent: the group was rebalancing (CommitWhen::groupSteady)
    failed,     // refused or not answered (logged)
};

/// How a consumer read the headers of the records it handed out.
struct KafkaHeaderReadStats {
    uint64_t inPlace = 0;      // parsed from the fetched bytes
    uint64_t library = 0;      // through rd_kafka_message_headers()
    uint64_t crossChecked = 0; // in place and compared with the library's parse
    bool inPlaceDisabled = false; // off: another librdkafka release, the option, or a failed cross-check
};

/// A consumer-group member with at-least-once offset handling. Offsets are never committed automatically: the
/// owner calls `commitProcessed()` after its sink flushed everything derived from the records handed out so far.
/// Uses the cooperative-sticky assignor; on a rebalance the revoke handler runs *before* partitions are given up,
/// so the owner can flush and their offsets can be committed while this member still owns them.
class KafkaConsumer {
public:
    /// Throws std::runtime_error when the client cannot be created or the subscription fails.
    explicit KafkaConsumer(KafkaConsumerOptions options);
    ~KafkaConsumer();
    KafkaConsumer(const KafkaConsumer&) = delete;
    KafkaConsumer& operator=(const KafkaConsumer&) = delete;

    using RecordHandler = std::function<void(const KafkaRecord&)>;
    using PartitionsHandler = std::function<void(const std::vector<TopicPartition>&)>;

    /// Called after partitions were assigned to this member.
    void onAssign(PartitionsHandler handler) { assignHandler_ = std::move(handler); }
    /// Called before partitions are revoked (not when they were lost): flush here; `commitProcessed` follows.
    void onRevoke(PartitionsHandler handler) { revokeHandler_ = std::move(handler); }
    /// Called when partitions were lost (the group moved on without a clean revoke): nothing can be committed for
    /// them any more; their records will be re-delivered to their new owner.
    void onLost(PartitionsHandler handler) { lostHandler_ = std::move(handler); }
    /// Called after revoked partitions were committed, before any other record is handed out.
    void onRevoked(PartitionsHandler handler) { revokedHandler_ = std::move(handler); }

    /// Waits up to `timeoutMs` for the first record, then takes whatever else is ready, up to `maxRecords`, calling
    /// `handler` for each. Returns the number of records handed out. Rebalance callbacks run inside this call.
    size_t poll(size_t maxRecords, int timeoutMs, const RecordHandler& handler);

    enum class CommitWhen {
        now,          // commit in any case (revocations, the end of a drained run)
        groupSteady,  // a periodic commit: deferred while the group rebalances (see deferCommitsWhileRebalancing)
    };
    /// Synchronously commits the offsets following every record handed out so far. Unless committed, the offsets
    /// stay pending for the next call (a failure is logged, a run of deferrals once).
    CommitResult commitProcessed(CommitWhen when = CommitWhen::now);
    /// Periodic commits deferred so far because the group was rebalancing.
    uint64_t deferredCommits() const { return deferredCommits_; }
    /// The group's join state as librdkafka last logged it: true when `steady` or not known (the gate is off, or
    /// nothing logged yet). Set from librdkafka's threads.
    bool groupSteady() const;
    /// Commits that failed so far, including those at revocations (whose records the next owner then reads again).
    uint64_t failedCommits() const { return failedCommits_; }
    /// Text stored with each partition's committed offset (Kafka commit metadata), read back by `committedOffsets`.
    void setCommitMetadata(std::function<std::string(const TopicPartition&)> metadata) { commitMetadata_ = std::move(metadata); }
    /// The committed offsets of these partitions with their metadata (partitions without a commit are left out).
    /// Throws std::runtime_error when the group coordinator does not answer: continuing without knowing the
    /// checkpoints would start from scratch.
    std::map<TopicPartition, std::pair<int64_t, std::string>> committedOffsets(const std::vector<TopicPartition>& partitions,
                                                                              int timeoutMs);
    /// What this member last committed for a partition it owns (offset, metadata), if anything.
    std::optional<std::pair<int64_t, std::string>> lastCommitted(const TopicPartition& partition) const {
        auto found = committedOffset_.find(partition);
        if (found == committedOffset_.end()) return std::nullopt;
        return found->second;
    }
    /// The number of partitions of a topic (0 when it does not exist); throws UserError when the cluster does not answer.
    int partitionCount(const std::string& topic, int timeoutMs);
    /// Limits what commits may cover: given a partition and the offset after the last record handed out, returns the
    /// offset to commit (records from it on will be re-delivered after a restart; negative: commit nothing for that
    /// partition). Default: everything handed out.
    void setCommitPosition(std::function<int64_t(const TopicPartition&, int64_t next)> position) { commitPosition_ = std::move(position); }

    const KafkaHeaderReadStats& headerReadStats() const { return headerStats_; }

    /// True when partitions are assigned and each reached its end (requires reportEndOfPartition).
    bool allPartitionsAtEnd() const;
    std::vector<TopicPartition> assignment() const;
    size_t assignedCount() const { return assigned_.size(); }
    /// Records between the consumed position and the high watermark, summed over the assignment (from the
    /// client's cached fetch state; -1 when unknown).
    int64_t lag() const;
    /// Per assigned partition, the offset of the next record to process: after the last record handed out, else the
    /// last commit, else -1 (not known yet). What a LagMonitor needs from the job thread.
    std::map<TopicPartition, int64_t> positions() const;
    /// Commits what is processed (when `commitFirst`) and leaves the group; idempotent. The destructor closes
    /// without committing: after a failure, records the sink may not have received must be re-delivered.
    void close(bool commitFirst = true);

    struct Handle;

private:
    std::function<int64_t(const TopicPartition&, int64_t)> commitPosition_;
    std::function<std::string(const TopicPartition&)> commitMetadata_;
    friend struct KafkaConsumerRebalanceAccess; // the C rebalance callback
    void handleRebalance(int error, void* partitions);
    bool commit(const std::vector<TopicPartition>* only);

    KafkaConsumerOptions options_;
    std::unique_ptr<Handle> handle_;
    PartitionsHandler assignHandler_;
    PartitionsHandler revokeHandler_;
    PartitionsHandler lostHandler_;
    PartitionsHandler revokedHandler_;
    std::set<TopicPartition> assigned_;
    std::set<TopicPartition> atEnd_;
    std::map<TopicPartition, int64_t> nextOffset_;      // after the last record handed out
    std::map<TopicPartition, std::pair<int64_t, std::string>> committedOffset_; // last successfully committed, with metadata
    std::set<TopicPartition> revokedDuringPoll_;  // revoked or lost while the current poll took its batch
    uint64_t runs_ = 0;                 // see KafkaRecord::run
    std::vector<HeaderView> headers_;   // the current record's headers (views), reused across records
    std::vector<HeaderView> checkHeaders_;  // the library's parse, for cross-checks
    KafkaHeaderReadStats headerStats_;
    void readHeaders(void* message);  // an rd_kafka_message_t, into headers_
    uint64_t failedCommits_ = 0;
    uint64_t deferredCommits_ = 0;
    bool deferring_ = false;            // inside a run of deferred commits (logged once per run)
    bool closed_ = false;
    bool abandoning_ = false;           // closing after a failure: revocations neither flush nor commit
    std::exception_ptr callbackError_;  // thrown by a handler inside a librdkafka callback, rethrown by poll()
};

} // namespace pipec::runtime
