#pragma once

#include "runtime/core/operator.h"
#include "runtime/kafka/kafka_partition_watermarks.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pipec::runtime {

/// The state-compatibility fingerprint of a plan: what its checkpointed state depends on (source message and
/// topic, group window, GROUP BY keys, aggregates, the operators of the chain). A checkpoint whose fingerprint
/// differs is refused rather than misread. Same rules as `pipec compile --against`: a change of filters, HAVING,
/// outputs or sinks keeps the state.
std::string stateFingerprint(const plan::Pipeline& pipeline);

/// The changelog format this pipec writes and reads: records and marks of another format are refused, not misread.
/// 2: an entry per (GROUP BY key, slice) for HOP and TUMBLE windows, expiry by the committed meta (no erase markers).
constexpr uint32_t kChangelogFormat = 2;

/// One changelog record's key, decoded: (partition, writer, slot, entry). Compaction keeps the newest record per
/// key, so the changelog holds at most two records (slots) per live entry of the partition's writer; see
/// docs/checkpoints.md for why an entry has two slots. The entry is the chain's: the operator's position, then the
/// operator's key (a window's slice start and GROUP BY key, or a GROUP BY key for sessions).
struct ChangelogKey {
    int32_t partition = 0;
    uint64_t writer = 0;
    uint8_t slot = 0;
    std::string entry;
};
std::string encodeChangelogKey(const ChangelogKey& key);
std::optional<ChangelogKey> decodeChangelogKey(std::string_view bytes);

struct ChangelogValue {
    uint64_t sequence = 0;  // the checkpoint that wrote it
    std::string state;
};
std::string encodeChangelogValue(const ChangelogValue& value);
std::optional<ChangelogValue> decodeChangelogValue(std::string_view bytes);

/// What a partition's commit says about its checkpoint (Kafka commit metadata, next to the source offset it covers).
struct CheckpointMark {
    uint32_t format = kChangelogFormat;   // of the records it names (a mark without `v` is format 1)
    uint64_t writer = 0;
    uint64_t sequence = 0;
    std::string fingerprint;
    uint64_t entries = 0;                 // live entries of the writer as of `sequence` (checked at restore)
    std::optional<int64_t> maxEventTime;  // the partition's watermark base
    std::string meta;                     // OperatorChain::writeMeta
    std::string input;                    // the task's input state (stage 2 of an exchange: UpstreamWatermarks)
};
std::string formatCheckpointMark(const CheckpointMark& mark);
/// nullopt: not a checkpoint mark (no metadata, or one from an older pipec).
std::optional<CheckpointMark> parseCheckpointMark(std::string_view metadata);

/// The latest changelog record of each key of one partition (what compaction would keep), as read at restore.
using ChangelogContents = std::map<std::string, ChangelogValue>;  // encoded key → value (tombstones removed)

/// Where a task's changelog records go: the changelog topic, or an in-memory log in tests.
class ChangelogOutput {
public:
    virtual ~ChangelogOutput() = default;
    /// Enqueues a record (value nullopt: a tombstone).
    virtual void produce(int32_t partition, const std::string& key, const std::optional<std::string>& value) = 0;
};

/// The changelog topic `<group>-<job>-changelog`: a compacted topic with as many partitions as the source topic,
/// partition p holding the state of source partition p's task. One producer writes every task's records; a short-lived
/// consumer reads partitions back at restore.
class Changelog : public ChangelogOutput {
public:
    struct Options {
        std::string brokers;
        std::string topic;
        std::map<std::string, std::string> properties;  // the cluster's client settings (security)
        int timeoutMs = 30000;
    };
    explicit Changelog(Options options);
    ~Changelog();
    Changelog(const Changelog&) = delete;
    Changelog& operator=(const Changelog&) = delete;

    /// Makes sure the topic exists with `partitions` partitions (creating it compacted when missing). Throws
    /// UserError-style std::runtime_error with what to do when it cannot.
    /// `countPartitions` reads a topic's partition count (0: missing) through a client that never auto-creates topics
    /// (a consumer: a producer's metadata request may make the broker create the topic with its default count).
    void ensureTopic(int partitions, const std::function<int(const std::string& topic)>& countPartitions);
    const std::string& topic() const { return options_.topic; }

    void produce(int32_t partition, const std::string& key, const std::optional<std::string>& value) override;
    /// Waits until every enqueued record was acknowledged; throws std::runtime_error when one failed or the wait
    /// timed out (the checkpoint must then not be committed).
    void flush();
    uint64_t bytesWritten() const { return bytesWritten_; }
    uint64_t recordsWritten() const { return recordsWritten_; }

    /// Reads these partitions from their beginning to their current end.
    std::map<int32_t, ChangelogContents> read(const std::vector<int32_t>& partitions);

    struct Handle;

private:
    Options options_;
    std::unique_ptr<Handle> handle_;
    uint64_t bytesWritten_ = 0;
    uint64_t recordsWritten_ = 0;
};

/// A task's side of the changelog protocol: it turns the chain's keyed changes into records (alternating two slots
/// per entry, so a checkpoint that never got committed cannot overwrite the committed one), remembers which slot holds
/// the committed version of each entry, and removes (tombstones) the records of entries that expired once the
/// checkpoint that expired them is committed, and what older writers left once its own first checkpoint is.
class TaskCheckpointer {
public:
    TaskCheckpointer(int32_t partition, std::string fingerprint, uint64_t writer);

    /// Restores `chain` from `contents` at `mark` (the partition's committed checkpoint) and queues every other record
    /// for cleanup. Throws std::runtime_error when the checkpoint is incompatible or incomplete.
    void restore(const ChangelogContents& contents, const CheckpointMark& mark, class OperatorChain& chain);
    /// No checkpoint committed: only queue what is in the changelog for cleanup.
    void adopt(const ChangelogContents& contents);

    /// Writes the chain's changes (all of its state when this writer never checkpointed) and returns the commit
    /// metadata of this checkpoint. `input`: the task's input state, carried in the mark (stage 2 of an exchange).
    std::string write(OperatorChain& chain, ChangelogOutput& changelog, std::optional<int64_t> maxEventTime, std::string_view input = {});
    /// The commit of the last written checkpoint succeeded. Nothing happens when no checkpoint was written since the
    /// last call: a task restored from a checkpoint and not yet written must not count the restored mark as its own
    /// (its first write would then remove the restored writer's records, which that mark still needs).
    void committed();
    uint64_t sequence() const { return sequence_; }
    uint64_t liveEntries() const { return live_; }

    /// KeyedStateSink calls, during write().
    void put(std::string_view entryKey, std::string_view state);
    void expire(std::string_view entryKey);

private:
    struct Entry {
        int8_t committedSlot = -1;   // where the committed version is (-1: none)
        int8_t pendingSlot = -1;     // written since the last successful commit (-1: nothing)
        bool expired = false;        // expired since its last version; its records go once that is committed
        uint8_t slotsUsed = 0;       // a bit per slot that holds a record of it
    };
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
    };
    std::string recordKey(uint64_t writer, uint8_t slot, std::string_view entry) const;
    void reserveForeignRecords(const ChangelogContents& contents);
    void addForeignRecord(std::string_view key);

    int32_t partition_;
    std::string fingerprint_;
    uint64_t writer_;
    uint64_t sequence_ = 0;
    bool everCommitted_ = false;
    bool writtenSinceCommit_ = false;          // write() ran since the last committed()
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
    uint64_t live_ = 0;                        // entries put and not expired since
    ChangelogOutput* output_ = nullptr;        // during write()
    // The keys of other writers' records, tombstoned after the first commit: each a 4-byte length and the key, packed
    // (a restore adds every record of its partition; a string each cost twice the bytes).
    std::string foreignRecords_;
    // The entries with a pending version (written since the last commit): exactly those with pendingSlot >= 0, which
    // write() never erases, so the pointers stay valid (a rehash moves no element). A pointer, not a copy of the key:
    // a task's first checkpoint puts every entry of its state.
    std::vector<Entry*> pendingEntries_;
    std::vector<std::string> expiredKeys_;     // entries expired since the last commit
    std::vector<std::string> removable_;       // entries whose expiry was committed: their records go
};

} // namespace pipec::runtime
