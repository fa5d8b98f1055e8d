#include "runtime/kafka/kafka_job.h"

#include "runtime/core/user_error.h"
#include "runtime/exchange/exchange_codec.h"
#include "runtime/exchange/exchange_watermarks.h"
#include "runtime/kafka/changelog.h"
#include "runtime/kafka/record_admission.h"
#include "runtime/operators/operator_chain.h"
#include "runtime/operators/pipeline_executor.h"
#include "runtime/formats/record_decoder.h"
#include "runtime/sources/envelope.h"
#include "runtime/sources/event_time_guard.h"
#include "runtime/kafka/kafka_consumer.h"
#include "runtime/kafka/kafka_partition_watermarks.h"
#include "runtime/sources/kafka_producer.h"
#include "runtime/kafka/lag_monitor.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <limits>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <stdexcept>
#include <tuple>

namespace pipec::runtime {

std::string changelogTopicName(const std::string& groupId, const std::string& jobName) {
    return groupId + "-" + jobName + "-changelog";
}

namespace {

int64_t wallClockMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
int64_t steadyMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
int64_t steadyMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// "topic/0, topic/3, ..." for a log line, the first 16 of them.
std::string describePartitions(const std::vector<TopicPartition>& partitions) {
    std::string text;
    for (size_t i = 0; i < partitions.size() && i < 16; ++i)
        text += fmt::format("{}{}/{}", i == 0 ? "" : ", ", partitions[i].first, partitions[i].second);
    if (partitions.size() > 16) text += fmt::format(" and {} more", partitions.size() - 16);
    return text;
}

/// What an older pipec committed (`pipec-watermark=W[;floor=F]`): every window of the partition's keys up to W was
/// emitted. Continuing from it without state: windows up to W are not emitted again.
std::optional<int64_t> parseLegacyWatermark(std::string_view metadata) {
    constexpr std::string_view kTag = "pipec-watermark=";
    if (metadata.substr(0, kTag.size()) != kTag) return std::nullopt;
    metadata.remove_prefix(kTag.size());
    return parseEpochMillis(metadata.substr(0, metadata.find(';')));
}

uint64_t randomWriterId() {
    // Seeded once per process (a random_device per task cost more than the rest of a task's creation).
    static std::mt19937_64 engine = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(),
                           static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())};
        return std::mt19937_64(seed);
    }();
    return engine();
}

/// Counts the rows the chains emit on their way to the real sink, and the time the sink keeps the job blocked.
class CountingSink : public RowSink {
public:
    CountingSink(RowSink& inner, std::atomic<uint64_t>& rows) : inner_(inner), rows_(rows) {}
    void open(const std::vector<plan::OutputColumn>& columns) override { inner_.open(columns); }
    void write(const Row& row) override {
        inner_.write(row);
        rows_++;
    }
    void writeWindowed(const Row& row, int64_t windowEndMs) override {
        inner_.writeWindowed(row, windowEndMs);
        rows_++;
    }
    void flush() override { inner_.flush(); }
    void health(std::vector<SinkHealth>& out) const override { inner_.health(out); }

private:
    RowSink& inner_;
    std::atomic<uint64_t>& rows_;
};

} // namespace

/// One assigned source partition: its operator chain (and so its window state), where it is in the partition, and its
/// side of the changelog.
struct PartitionTask {
    PartitionTask(const plan::Pipeline& pipeline, TopicPartition partition, RowSink& sink, ChainBuffers& buffers,
                  const std::string& fingerprint)
        : partition(std::move(partition)), chain(pipeline, sink, &buffers),
          checkpointer(this->partition.second, fingerprint, randomWriterId()) {}

    TopicPartition partition;
    OperatorChain chain;
    int64_t nextOffset = -1;              // after the last record taken (-1: none taken, no commit known)
    int64_t startOffset = -1;             // where the task started reading: the committed offset, else its first record
    std::optional<int64_t> maxEventTime;  // of the rows taken (restored with the state)
    TaskCheckpointer checkpointer;
    int64_t checkpointOffset = -1;        // the source offset the last written checkpoint covers
    std::string checkpointMark;           // its commit metadata
    uint64_t lateCounted = 0;             // its late rows already in KafkaJob::Impl::lateRows_
    int64_t timer = std::numeric_limits<int64_t>::max();  // its key in KafkaJob::Impl::timers_ (max: none)
    KafkaPartitionWatermarks::PartitionState* watermark = nullptr;  // its entry there (stable until revoked; null in stage 2)
    UpstreamWatermarks upstream;          // stage 2 of an exchange: what the markers said, which rows were applied
};

struct KafkaJob::Impl {
    Impl(const plan::Pipeline& pipeline, KafkaJobOptions options, RowSink& sink, JobStatus& status);

    void onAssign(const std::vector<TopicPartition>& partitions);
    void onRevoke(const std::vector<TopicPartition>& partitions);
    void onRevoked(const std::vector<TopicPartition>& partitions);
    void onLost(const std::vector<TopicPartition>& partitions);
    void handle(const KafkaRecord& record);
    void handleExchange(const KafkaRecord& record);
    void publishUpstream();
    void reject(const KafkaRecord& record, BadRecordReason reason, std::string_view detail);
    void flushPending();
    void propagateWatermark();
    void schedule(PartitionTask& task);
    void catchUp(PartitionTask& task);
    void flushOutputs();
    void writeCheckpoints(const std::vector<PartitionTask*>& tasks);
    /// Tells each task whose last written checkpoint is now committed (its offset and mark) that it is.
    void confirmCheckpoints();
    /// `when`: periodic checkpoints defer their commit while the group rebalances (KafkaConsumer::CommitWhen).
    void checkpointAndCommit(KafkaConsumer::CommitWhen when);
    /// Commits the checkpoints written last (their offsets and marks) and confirms those that were committed.
    void commitCheckpoints(KafkaConsumer::CommitWhen when = KafkaConsumer::CommitWhen::groupSteady);
    /// pipec_uncommitted_records: what the partitions' next owners would read again if this member died now.
    void publishUncommitted();
    void dropTask(const TopicPartition& partition);
    void watchGroupKeys(PartitionTask& task);
    void publish();
    /// The clock of idleness: wall time less the time the job was blocked (sink, checkpoints, restores), during which
    /// it could not read, so partitions whose records wait in the client are not idle.
    int64_t idleClock() const { return steadyMillis() - blockedMs_; }
    template <typename F>
    void blocked(F&& work) {
        int64_t start = steadyMillis();
        struct Account {
            int64_t start;
            int64_t& total;
            ~Account() { total += steadyMillis() - start; }
        } account{start, blockedMs_};
        work();
    }
    int run(std::atomic<bool>& stop);
    // Stage 2 of an exchange has gauges and counters of its own (stage 1 in the same process has the source's).
    std::atomic<int>& assignedGauge() { return exchange_ ? status_.exchangeAssignedPartitions : status_.assignedPartitions; }
    std::atomic<bool>& runningFlag() { return exchange_ ? status_.exchangeRunning : status_.running; }
    std::atomic<uint64_t>& recordsInTotal() { return exchange_ ? status_.exchangeRecordsIn : status_.recordsIn; }
    /// A bounded run is over when every partition is drained and, for stage 2 of an exchange, every source partition
    /// sent its end marker to every task (before that, an empty repartition partition may just not have been written).
    bool allInputEnded() const {
        if (!exchange_) return true;
        for (const auto& [partition, task] : tasks_)
            if (task->chain.watermark() != std::numeric_limits<int64_t>::max()) return false;
        return true;
    }

    const plan::Pipeline& pipeline_;
    KafkaJobOptions options_;
    JobStatus& status_;
    CountingSink sink_;
    std::function<void(const std::string&)> log_;
    const plan::Source& source_;
    const std::string job_;
    const std::string fingerprint_;
    RecordAdmission admission_;
    Rejection rejection_;
    KafkaPartitionWatermarks watermarks_;
    std::unique_ptr<KafkaProducer> deadLetters_;
    std::unique_ptr<RejectedRecords> rejected_;
    std::unique_ptr<ExchangeCodec> exchange_;  // stage 2 of an exchange
    std::unique_ptr<KafkaConsumer> consumer_;
    // The lag comes from the broker's high watermarks on a thread of its own, so it stays current while this thread
    // waits on a blocked sink; this thread hands it the positions (after polls, and before flushes).
    std::unique_ptr<LagMonitor> lagMonitor_;
    int64_t lastPositionsMs_ = 0;
    bool commitDeferred_ = false;  // the last checkpoint's commit was deferred by a rebalance: retried once steady
    int64_t lastUpstreamPublishMs_ = 0;
    std::unique_ptr<Changelog> changelog_;
    bool changelogReady_ = false;
    // The batches every task's chain fills while it fires: the tasks run one at a time on this thread, so one set
    // serves them all (declared before the tasks, which use it until they are destroyed).
    ChainBuffers chainBuffers_;
    std::map<TopicPartition, std::unique_ptr<PartitionTask>> tasks_;
    std::vector<PartitionTask*> taskByPartition_;  // the tasks by partition number (nullptr: not assigned)
    // Which partition each GROUP BY key of this member's tasks came from. Each task aggregates only its own
    // partition's records, so a key arriving in two partitions would get two partial aggregates (written over each
    // other as the same feature): the job stops instead. Checked when a task sees a key for the first time.
    std::unordered_map<std::string, int32_t> keyPartitions_;
    std::unordered_set<std::string> splitSeen_;  // (key, partition) pairs counted as split
    // Decoded rows not yet given to their task's chain: rows of one task at a time (records come in runs per
    // partition), so one batch serves every task and stays in cache.
    RowBatch pending_;
    PartitionTask* pendingTask_ = nullptr;
    int64_t appliedWatermark_ = std::numeric_limits<int64_t>::min();  // the member watermark last given to the tasks
    // A task's chain gets the member watermark when it reaches the chain's next timer (a window to fire); below it,
    // advancing would change nothing but the chain's watermark, which it gets before its next batch or checkpoint
    // (catchUp). So a watermark move costs the tasks that fire, not all of them. Ordered by (timer, partition).
    std::set<std::tuple<int64_t, int32_t, PartitionTask*>> timers_;
    int64_t blockedMs_ = 0;
    bool finished_ = false;  // a drained bounded run fired every window
    // Late rows of every task, dropped ones too (so the job's total never goes back), counted as the tasks process
    // their batches rather than summed over the tasks at every poll.
    uint64_t lateRows_ = 0;
    // Per record: the task of the current run of records (records come in runs per partition).
    struct Current {
        uint64_t run = 0;
        PartitionTask* task = nullptr;
        KafkaPartitionWatermarks::PartitionState* watermark = nullptr;
    } current_;
    uint64_t recordsIn_ = 0;
    uint64_t decoded_ = 0;
    int64_t pollClock_ = 0;      // idle clock at the start of the current poll
    int64_t pollWallClock_ = 0;  // wall clock at the start of the current poll (no clock read per record)
};

KafkaJob::Impl::Impl(const plan::Pipeline& pipeline, KafkaJobOptions options, RowSink& sink, JobStatus& status)
    : pipeline_(pipeline), options_(std::move(options)), status_(status), sink_(sink, status.rowsOut), log_(options_.log),
      source_(pipeline.source()), job_(pipeline.job_name()), fingerprint_(stateFingerprint(pipeline)),
      admission_(source_, options_.maxFutureSkewMs), watermarks_(options_.idleTimeoutMs) {
    if (!log_) log_ = [](const std::string& line) { std::cerr << line << "\n"; };
    // The changelog maps source partition p to its partition p: one source topic per job (as plans have).
    if (options_.topics.size() != 1) throw std::invalid_argument("a Kafka job reads exactly one topic");
    if (options_.changelogTopic.empty()) options_.changelogTopic = changelogTopicName(options_.groupId, job_);
    if (!options_.deadLetterTopic.empty()) deadLetters_ = std::make_unique<KafkaProducer>(options_.brokers, options_.properties);
    rejected_ = std::make_unique<RejectedRecords>(status_, job_, log_, deadLetters_.get(), options_.deadLetterTopic);
    if (options_.exchangeInput) {
        if (!pipeline.has_exchange()) throw std::invalid_argument("stage 2 of a plan without an exchange");
        exchange_ = std::make_unique<ExchangeCodec>(pipeline);
    }
    changelog_ = std::make_unique<Changelog>(Changelog::Options{options_.brokers, options_.changelogTopic, options_.properties, 30000});

    KafkaConsumerOptions consumerOptions;
    consumerOptions.brokers = options_.brokers;
    consumerOptions.groupId = options_.groupId;
    consumerOptions.topics = options_.topics;
    consumerOptions.properties = options_.properties;
    consumerOptions.reportEndOfPartition = options_.untilEnd;
    consumerOptions.sessionTimeoutMs = options_.sessionTimeoutMs;
    consumerOptions.instanceId = options_.instanceId;
    consumerOptions.log = log_;
    consumer_ = std::make_unique<KafkaConsumer>(consumerOptions);
    LagMonitorOptions lagOptions;
    lagOptions.brokers = options_.brokers;
    lagOptions.groupId = options_.groupId;
    lagOptions.properties = options_.properties;
    lagOptions.intervalMs = options_.lagIntervalMs;
    lagOptions.log = log_;
    lagMonitor_ = std::make_unique<LagMonitor>(lagOptions, exchange_ ? status_.exchangeLag : status_.lag);
    // A partition's commit covers what its last checkpoint covers, and names that checkpoint.
    consumer_->setCommitPosition([this](const TopicPartition& partition, int64_t next) -> int64_t {
        auto found = tasks_.find(partition);
        if (found == tasks_.end()) return -1;
        if (finished_) return next;  // drained: everything fired, nothing to restore
        return found->second->checkpointOffset;
    });
    consumer_->setCommitMetadata([this](const TopicPartition& partition) -> std::string {
        auto found = tasks_.find(partition);
        if (found == tasks_.end() || finished_) return {};
        return found->second->checkpointMark;
    });
    consumer_->onAssign([this](const auto& partitions) { onAssign(partitions); });
    consumer_->onRevoke([this](const auto& partitions) { onRevoke(partitions); });
    consumer_->onRevoked([this](const auto& partitions) { onRevoked(partitions); });
    consumer_->onLost([this](const auto& partitions) { onLost(partitions); });
}

void KafkaJob::Impl::onAssign(const std::vector<TopicPartition>& partitions) {
    if (partitions.empty()) return;  // a cooperative rebalance that gave this member nothing new
    // The tasks held back below the member watermark get it now: it is applied anew below, and may then drop.
    for (auto& [partition, task] : tasks_) catchUp(*task);
    blocked([&] {
        if (!changelogReady_) {
            // The changelog has a partition per source partition: state moves with the partition.
            int sourcePartitions = consumer_->partitionCount(partitions.front().first, 30000);
            changelog_->ensureTopic(sourcePartitions, [this](const std::string& topic) { return consumer_->partitionCount(topic, 30000); });
            changelogReady_ = true;
        }
        auto committed = consumer_->committedOffsets(partitions, 30000);
        std::vector<int32_t> numbers;
        for (const auto& partition : partitions) numbers.push_back(partition.second);
        auto contents = changelog_->read(numbers);
        uint64_t restoredEntries = 0;
        size_t restored = 0;
        for (const auto& partition : partitions) {
            dropTask(partition);  // (an assignment never repeats one, but no pointer to a replaced task may stay)
            auto task = std::make_unique<PartitionTask>(pipeline_, partition, sink_, chainBuffers_, fingerprint_);
            watchGroupKeys(*task);
            ChangelogContents& records = contents[partition.second];
            auto commit = committed.find(partition);
            std::optional<CheckpointMark> mark;
            if (commit != committed.end()) {
                task->nextOffset = task->checkpointOffset = task->startOffset = commit->second.first;
                task->checkpointMark = commit->second.second;
                mark = parseCheckpointMark(commit->second.second);
            }
            if (mark) {
                try {
                    task->checkpointer.restore(records, *mark, task->chain);
                } catch (const std::runtime_error& error) {
                    throw UserError(fmt::format("cannot restore {}/{} from changelog `{}`: {}", partition.first, partition.second,
                                                changelog_->topic(), error.what()),
                                    UserError::kEnvironmentRefused);
                }
                task->maxEventTime = mark->maxEventTime;
                if (exchange_) {
                    if (mark->input.empty())
                        throw UserError(fmt::format("the checkpoint of {}/{} has no exchange state: it was not written by stage 2 of this plan; "
                                                    "start the job with a new --group",
                                                    partition.first, partition.second),
                                        UserError::kEnvironmentRefused);
                    StateReader input(mark->input);
                    task->upstream.read(input);
                    if (!input.atEnd()) throw UserError("corrupt exchange state in a checkpoint", UserError::kEnvironmentRefused);
                }
                restoredEntries += mark->entries;
                ++restored;
            } else {
                task->checkpointer.adopt(records);
                if (commit != committed.end()) {
                    if (auto legacy = parseLegacyWatermark(commit->second.second)) {
                        // Committed by a pipec without checkpoints: its windows up to there were emitted.
                        task->chain.advanceWatermark(*legacy);
                        log_(fmt::format("job {}: {}/{} has no checkpoint; continuing from the committed watermark {} without state", job_,
                                         partition.first, partition.second, *legacy));
                    }
                }
            }
            // Restored: the records read for this partition go before the next one's state is built (they are
            // about as large as the state itself, and all partitions' were read at once).
            ChangelogContents().swap(records);
            if (!exchange_) {
                watermarks_.assign(partition, idleClock());
                if (task->maxEventTime) watermarks_.restoreMaxEventTime(partition, *task->maxEventTime);
                task->watermark = &watermarks_.state(partition);
            }
            schedule(*task);
            if (taskByPartition_.size() <= static_cast<size_t>(partition.second)) taskByPartition_.resize(static_cast<size_t>(partition.second) + 1);
            taskByPartition_[static_cast<size_t>(partition.second)] = task.get();
            tasks_[partition] = std::move(task);
        }
        status_.restoredEntries += restoredEntries;
        assignedGauge() = static_cast<int>(consumer_->assignedCount());
        log_(fmt::format("job {}: assigned {} partition(s): {}; {} restored from changelog `{}` ({} state entries)", job_, partitions.size(),
                         describePartitions(partitions), restored, changelog_->topic(), restoredEntries));
    });
    // Windows of the restored tasks may already be complete at the member's watermark: it is applied again.
    appliedWatermark_ = std::numeric_limits<int64_t>::min();
    current_ = {};
}

void KafkaJob::Impl::flushPending() {
    if (pending_.empty()) return;
    PartitionTask& task = *pendingTask_;
    task.chain.advanceWatermark(appliedWatermark_);  // the watermark the rows were taken at, if held back
    task.chain.process(pending_);
    pending_.clear();
    const uint64_t late = task.chain.lateRows();
    lateRows_ += late - task.lateCounted;
    task.lateCounted = late;
    schedule(task);
}

void KafkaJob::Impl::schedule(PartitionTask& task) {
    int64_t timer = task.chain.nextTimer();
    // A timer at or below the chain's own watermark could never fire by advancing it: the next move will do.
    const int64_t own = task.chain.watermark();
    if (timer <= own) timer = own == std::numeric_limits<int64_t>::max() ? own : own + 1;
    if (timer == task.timer) return;
    const int32_t partition = task.partition.second;
    if (task.timer != std::numeric_limits<int64_t>::max()) timers_.erase({task.timer, partition, &task});
    task.timer = timer;
    if (timer != std::numeric_limits<int64_t>::max()) timers_.emplace(timer, partition, &task);
}

void KafkaJob::Impl::catchUp(PartitionTask& task) {
    task.chain.advanceWatermark(appliedWatermark_);
    schedule(task);
}

void KafkaJob::Impl::propagateWatermark() {
    // The minimum over the member's partitions, which drops when a partition behind the others is assigned: each
    // task's chain ignores a watermark below its own.
    auto minimum = watermarks_.currentMinimum();
    if (!minimum) return;
    int64_t watermark = *minimum - source_.watermark_delay_ms();
    if (watermark <= appliedWatermark_) {
        // Every chain keeps the highest watermark it was given: the held-back ones get it before it drops.
        if (watermark < appliedWatermark_)
            for (auto& [partition, task] : tasks_) catchUp(*task);
        appliedWatermark_ = watermark;
        return;
    }
    // Rows taken before the watermark moved are processed against the old one, as in a replay.
    flushPending();
    appliedWatermark_ = watermark;
    while (!timers_.empty() && std::get<0>(*timers_.begin()) <= watermark) {
        PartitionTask& task = *std::get<2>(*timers_.begin());
        timers_.erase(timers_.begin());
        task.timer = std::numeric_limits<int64_t>::max();
        task.chain.advanceWatermark(watermark);
        schedule(task);
    }
    status_.watermarkMs = watermark;
}

void KafkaJob::Impl::reject(const KafkaRecord& record, BadRecordReason reason, std::string_view detail) {
    rejected_->reject(record, reason, detail);
}

void KafkaJob::Impl::handle(const KafkaRecord& record) {
    ++recordsIn_;
    if (record.run != current_.run) {
        // By partition number (the job reads one topic): runs are short when many partitions interleave.
        PartitionTask* found = record.partition >= 0 && static_cast<size_t>(record.partition) < taskByPartition_.size()
                                   ? taskByPartition_[static_cast<size_t>(record.partition)]
                                   : nullptr;
        if (found == nullptr || record.topic != found->partition.first)
            throw std::logic_error(fmt::format("a record of {}/{}, which has no task", record.topic, record.partition));
        current_.run = record.run;
        current_.task = found;
        current_.watermark = found->watermark;
        if (found->startOffset < 0) found->startOffset = record.offset;
    }
    if (exchange_) return handleExchange(record);
    PartitionTask& task = *current_.task;
    task.nextOffset = record.offset + 1;  // a rejected record is handled too (counted, dead-lettered)
    // Decoded straight into the pending batch.
    if (pendingTask_ != &task) {
        flushPending();  // another task's rows
        pendingTask_ = &task;
    }
    Row& row = pending_.append(0);
    if (!admission_.admit(SourceRecordView{record.valueIsNull, record.key, record.payload, record.headers}, pollWallClock_, row, rejection_)) {
        pending_.dropLast();
        return reject(record, rejection_.reason, rejection_.detail);
    }
    const int64_t time = row[0].i;
    ++decoded_;
    pending_.times[pending_.size - 1] = time;
    if (!task.maxEventTime || time > *task.maxEventTime) task.maxEventTime = time;
    watermarks_.observe(*current_.watermark, time, pollClock_);
    // As in a replay, the watermark moves after every row (not once per poll), so which rows are late does not depend
    // on how records happen to be batched: the rows taken so far are processed before it moves.
    if (watermarks_.watermarkBaseAfter(*current_.watermark, pollClock_)) propagateWatermark();
    if (pending_.size >= 256) flushPending();
}

void KafkaJob::Impl::handleExchange(const KafkaRecord& record) {
    PartitionTask& task = *current_.task;
    task.nextOffset = record.offset + 1;
    switch (exchange_->kind(record.payload)) {
    case ExchangeCodec::Kind::Row: {
        if (pendingTask_ != &task) {
            flushPending();  // another task's rows
            pendingTask_ = &task;
        }
        Row& row = pending_.append(0);
        int32_t sourcePartition = 0;
        int64_t sourceOffset = 0;
        if (!exchange_->decodeRow(record.payload, row, sourcePartition, sourceOffset)) {
            pending_.dropLast();
            throw UserError(fmt::format("repartition record {}/{}@{} is corrupt; nothing but pipec's stage 1 may write to `{}`", record.topic,
                                        record.partition, record.offset, record.topic),
                            UserError::kEnvironmentRefused);
        }
        // Produced again by a stage-1 task that restarted from its last commit: applied already.
        if (!task.upstream.admitRow(sourcePartition, sourceOffset)) {
            pending_.dropLast();
            status_.exchangeDuplicates++;
            return;
        }
        ++decoded_;
        const int64_t time = row[0].i;
        pending_.times[pending_.size - 1] = time;
        if (!task.maxEventTime || time > *task.maxEventTime) task.maxEventTime = time;
        if (pending_.size >= 256) flushPending();
        return;
    }
    case ExchangeCodec::Kind::Marker: {
        ExchangeCodec::Marker marker;
        if (!ExchangeCodec::decodeMarker(record.payload, marker))
            throw UserError(fmt::format("repartition record {}/{}@{} is a corrupt watermark marker", record.topic, record.partition,
                                        record.offset),
                            UserError::kEnvironmentRefused);
        task.upstream.observe(marker);
        std::optional<int64_t> watermark = task.upstream.watermark();
        if (!watermark || *watermark <= task.chain.watermark()) return;
        // Rows taken before the marker are processed against the old watermark. Each stage-2 task has its own
        // watermark (from the markers), so the member watermark and its timers are not used.
        if (pendingTask_ == &task) flushPending();
        task.chain.advanceWatermark(*watermark);
        const uint64_t late = task.chain.lateRows();
        lateRows_ += late - task.lateCounted;
        task.lateCounted = late;
        return;
    }
    case ExchangeCodec::Kind::WrongFormat:
        throw UserError(fmt::format("repartition topic `{}` holds rows of another plan (record {}@{}): the carried columns or the GROUP BY "
                                    "key changed, which `pipec compile --against` calls incompatible; start the job with a new --group, "
                                    "or delete the group's offsets and its repartition and changelog topics",
                                    record.topic, record.partition, record.offset),
                        UserError::kEnvironmentRefused);
    case ExchangeCodec::Kind::Corrupt:
        throw UserError(fmt::format("repartition record {}/{}@{} is not a pipec exchange record; nothing but pipec's stage 1 may write to "
                                    "`{}`",
                                    record.topic, record.partition, record.offset, record.topic),
                        UserError::kEnvironmentRefused);
    }
}

void KafkaJob::Impl::publishUpstream() {
    // The member's view per source partition: the lowest watermark any of its tasks heard (what holds it back).
    std::map<int32_t, int64_t> lowest;
    int64_t watermark = std::numeric_limits<int64_t>::max();
    bool any = false;
    for (const auto& [partition, task] : tasks_) {
        const auto upstream = task->upstream.upstreamWatermarks();
        for (size_t p = 0; p < upstream.size(); ++p) {
            if (!upstream[p]) continue;
            auto [entry, inserted] = lowest.emplace(static_cast<int32_t>(p), *upstream[p]);
            if (!inserted) entry->second = std::min(entry->second, *upstream[p]);
        }
        watermark = std::min(watermark, task->chain.watermark());
        any = true;
    }
    // The lowest task's: none (INT64_MIN) while a task has had no watermark yet.
    if (any) status_.watermarkMs = watermark;
    std::lock_guard lock(status_.exchangeMutex);
    status_.upstreamWatermarks = std::move(lowest);
}

void KafkaJob::Impl::flushOutputs() {
    lagMonitor_->setPositions(consumer_->positions());  // exact while the flush below may block
    blocked([&] {
        sink_.flush();
        if (!deadLetters_) return;
        if (!deadLetters_->flush(60000))
            throw UserError("dead-letter records still undelivered after 60 s", UserError::kEnvironmentRefused);
        if (deadLetters_->failed() > 0)
            throw UserError("dead-letter topic `" + options_.deadLetterTopic + "` rejected records: " + deadLetters_->lastError(),
                            UserError::kEnvironmentRefused);
    });
}

void KafkaJob::Impl::writeCheckpoints(const std::vector<PartitionTask*>& tasks) {
    // Everything the checkpoint covers must be durable first: the rows fired so far, then the state, with the chains
    // at the member watermark.
    flushPending();
    for (PartitionTask* task : tasks) catchUp(*task);
    flushOutputs();
    const int64_t start = steadyMicros();
    blocked([&] {
        uint64_t recordsBefore = changelog_->recordsWritten();
        uint64_t bytesBefore = changelog_->bytesWritten();
        for (PartitionTask* task : tasks) {
            if (task->nextOffset < 0) continue;  // nothing read and nothing committed: nothing to cover
            std::string input;
            if (exchange_) {
                StateWriter writer;
                task->upstream.write(writer);
                input = writer.take();
            }
            task->checkpointMark = task->checkpointer.write(task->chain, *changelog_, task->maxEventTime, input);
            task->checkpointOffset = task->nextOffset;
            status_.checkpoints++;
        }
        changelog_->flush();
        status_.changelogRecords += changelog_->recordsWritten() - recordsBefore;
        status_.changelogBytes += changelog_->bytesWritten() - bytesBefore;
    });
    status_.checkpointMicros += static_cast<uint64_t>(steadyMicros() - start);
}

void KafkaJob::Impl::confirmCheckpoints() {
    bool any = false;
    for (auto& [partition, task] : tasks_) {
        auto committed = consumer_->lastCommitted(partition);
        if (committed && committed->first == task->checkpointOffset && committed->second == task->checkpointMark) {
            task->checkpointer.committed();
            any = true;
        }
    }
    if (any) status_.lastCheckpointMs = wallClockMillis();
}

void KafkaJob::Impl::checkpointAndCommit(KafkaConsumer::CommitWhen when) {
    std::vector<PartitionTask*> tasks;
    for (auto& [partition, task] : tasks_) tasks.push_back(task.get());
    writeCheckpoints(tasks);
    commitCheckpoints(when);
}

void KafkaJob::Impl::commitCheckpoints(KafkaConsumer::CommitWhen when) {
    CommitResult result = CommitResult::failed;
    const int64_t start = steadyMicros();
    blocked([&] { result = consumer_->commitProcessed(when); });
    status_.checkpointMicros += static_cast<uint64_t>(steadyMicros() - start);
    status_.countCommit(result);
    commitDeferred_ = result == CommitResult::deferred;
    confirmCheckpoints();
    publishUncommitted();
}

void KafkaJob::Impl::publishUncommitted() {
    int64_t uncommitted = 0;
    for (const auto& [partition, task] : tasks_) {
        if (task->nextOffset < 0) continue;
        auto last = consumer_->lastCommitted(partition);
        const int64_t base = last ? last->first : task->startOffset;
        if (base >= 0 && task->nextOffset > base) uncommitted += task->nextOffset - base;
    }
    status_.uncommittedRecords = uncommitted;
}

void KafkaJob::Impl::onRevoke(const std::vector<TopicPartition>& partitions) {
    // Still the owner: write these partitions' last checkpoints; the consumer commits them right after.
    std::vector<PartitionTask*> tasks;
    for (const auto& partition : partitions) {
        auto found = tasks_.find(partition);
        if (found != tasks_.end()) tasks.push_back(found->second.get());
    }
    if (!finished_) writeCheckpoints(tasks);
    else flushOutputs();
    log_(fmt::format("job {}: revoking {} partition(s): {}", job_, partitions.size(), describePartitions(partitions)));
}

void KafkaJob::Impl::watchGroupKeys(PartitionTask& task) {
    GroupKeyTable* keys = task.chain.groupKeys();
    if (keys == nullptr) return;
    const int32_t partition = task.partition.second;
    keys->onNewKey([this, keys, partition](uint32_t index) {
        std::string encoded = keys->encodeKey(index);
        auto [entry, inserted] = keyPartitions_.emplace(encoded, partition);
        if (inserted || entry->second == partition) return;
        // Each (key, partition) pair once: a task sees a key as new once, unless the task was dropped and came back.
        if (!splitSeen_.insert(encoded + std::string(reinterpret_cast<const char*>(&partition), sizeof partition)).second) return;
        const uint64_t count = ++status_.splitKeys;
        std::string described;
        const Row& values = keys->values(index);
        const auto& names = pipeline_.window().group_key_names();
        for (size_t i = 0; i < values.size(); ++i) {
            const Value& value = values[i];
            std::string text = value.isNull ? "NULL" : !value.s.empty() ? value.s : value.d != 0 ? fmt::format("{}", value.d) : std::to_string(value.i);
            described += fmt::format("{}{}={}", i == 0 ? "" : ", ", i < static_cast<size_t>(names.size()) ? names[static_cast<int>(i)] : "key", text);
        }
        std::string message = fmt::format(
            "GROUP BY key ({}) arrives in partitions {} and {} of `{}`: each partition's task aggregates only its own records, so "
            "this feature is computed from part of them. The spec says the topic is keyed by the GROUP BY key (`key_field:` or "
            "`exchange: none`), and it is not: remove both to get a repartition exchange, or key the topic by the GROUP BY key",
            described.empty() ? "the whole stream" : described, entry->second, partition, source_.topic());
        if (options_.strictSplitKeys) throw UserError(message + " (--strict: stopping)", UserError::kEnvironmentRefused);
        if (count <= 10 || count % 1000 == 0) log_(fmt::format("job {}: error: split key #{}: {}", job_, count, message));
    });
}

void KafkaJob::Impl::dropTask(const TopicPartition& partition) {
    auto found = tasks_.find(partition);
    if (found == tasks_.end()) return;
    PartitionTask* task = found->second.get();
    if (GroupKeyTable* keys = task->chain.groupKeys()) {
        for (uint32_t index = 0; index < keys->size(); ++index) {
            auto entry = keyPartitions_.find(keys->encodeKey(index));
            if (entry != keyPartitions_.end() && entry->second == partition.second) keyPartitions_.erase(entry);
        }
    }
    if (pendingTask_ == task) {
        pending_.clear();
        pendingTask_ = nullptr;
    }
    if (task->timer != std::numeric_limits<int64_t>::max()) timers_.erase({task->timer, partition.second, task});
    taskByPartition_[static_cast<size_t>(partition.second)] = nullptr;
    tasks_.erase(found);
    watermarks_.revoke(partition);
    current_ = {};
}

void KafkaJob::Impl::onRevoked(const std::vector<TopicPartition>& partitions) {
    size_t uncommitted = 0;
    for (const auto& partition : partitions) {
        auto found = tasks_.find(partition);
        if (found == tasks_.end()) continue;
        const PartitionTask& task = *found->second;
        auto last = consumer_->lastCommitted(partition);
        if (task.checkpointOffset >= 0 && !(last && last->first == task.checkpointOffset && last->second == task.checkpointMark))
            ++uncommitted;
        dropTask(partition);
    }
    assignedGauge() = static_cast<int>(tasks_.size());
    if (!finished_ && uncommitted > 0)
        log_(fmt::format("job {}: {} of {} revoked partition(s) could not commit their last checkpoint; their next owner continues from "
                         "the one before",
                         job_, uncommitted, partitions.size()));
}

void KafkaJob::Impl::onLost(const std::vector<TopicPartition>& partitions) {
    // Another member may own them already: no checkpoint; their next owner restores the last committed one.
    for (const auto& partition : partitions) dropTask(partition);
    assignedGauge() = static_cast<int>(tasks_.size());
    log_(fmt::format("job {}: lost {} partition(s) ({}); their next owner continues from their last checkpoint", job_, partitions.size(),
                     describePartitions(partitions)));
}

void KafkaJob::Impl::publish() {
    // Each record taken moves its task one offset further from its last commit (recounted exactly every 200 ms).
    status_.uncommittedRecords += static_cast<int64_t>(recordsIn_);
    if (exchange_) {
        status_.exchangeRecordsIn += std::exchange(recordsIn_, 0);
        decoded_ = 0;  // stage 1 counts the decoded source records
        // Per task and source partition: a second's staleness is fine for the metrics, a scan per poll is not.
        if (int64_t now = steadyMillis(); now - lastUpstreamPublishMs_ >= 1000) {
            publishUpstream();
            lastUpstreamPublishMs_ = now;
        }
    } else {
        status_.recordsIn += std::exchange(recordsIn_, 0);
        status_.decoded += std::exchange(decoded_, 0);
    }
    status_.late = lateRows_;
}

int KafkaJob::Impl::run(std::atomic<bool>& stop) {
    auto handler = [this](const KafkaRecord& record) { handle(record); };
    int64_t lastCheckpoint = steadyMillis();
    int64_t lastFlush = lastCheckpoint;
    uint64_t recordsAtLastFlush = 0;
    bool drained = false;
    try {
        while (!stop.load()) {
            pollClock_ = idleClock();
            pollWallClock_ = wallClockMillis();
            try {
                consumer_->poll(options_.batchSize, 100, handler);
            } catch (...) {
                publish();
                throw;
            }
            if (steadyMillis() - lastPositionsMs_ >= 200) {
                lagMonitor_->setPositions(consumer_->positions());
                lastPositionsMs_ = steadyMillis();
                // Gauges: counted over every partition, so not at each poll.
                if (!exchange_) status_.activePartitions = static_cast<int>(watermarks_.activePartitions(idleClock()));
                publishUncommitted();
            }
            // Partitions may have gone idle, or all of them: the watermark can move without a record.
            if (!exchange_ && watermarks_.watermarkBase(idleClock())) propagateWatermark();
            publish();
            assignedGauge() = static_cast<int>(consumer_->assignedCount());
            runningFlag() = assignedGauge().load() > 0;
            if (options_.untilEnd && consumer_->allPartitionsAtEnd() && allInputEnded()) {
                drained = true;
                break;
            }
            int64_t steady = steadyMillis();
            if (commitDeferred_ && consumer_->groupSteady()) {
                // The last checkpoint is written but its commit was deferred by a rebalance: commit it now that the
                // group is steady again, rather than at the next interval.
                commitCheckpoints();
            } else if (options_.checkpointIntervalMs > 0 && steady - lastCheckpoint >= options_.checkpointIntervalMs) {
                checkpointAndCommit(KafkaConsumer::CommitWhen::groupSteady);
                lastCheckpoint = lastFlush = steadyMillis();
                recordsAtLastFlush = recordsInTotal().load();
            } else if (steady - lastFlush >= options_.commitIntervalMs ||
                       recordsInTotal().load() - recordsAtLastFlush >= options_.commitEveryRecords) {
                // Features reach the sink between checkpoints too.
                flushPending();
                flushOutputs();
                lastFlush = steadyMillis();
                recordsAtLastFlush = recordsInTotal().load();
            }
        }
        if (drained) {
            // A drained bounded run fires every window (watermark +inf) and commits the end without a checkpoint:
            // there is no state left, and a +inf watermark must not be restored by a later run of the group.
            flushPending();
            for (auto& [partition, task] : tasks_) task->chain.finish();
            finished_ = true;
            status_.watermarkMs = std::numeric_limits<int64_t>::max();
            flushOutputs();
            status_.countCommit(consumer_->commitProcessed());
        } else {
            // A stopped unbounded run does not fire incomplete windows (that would publish partial aggregates): it
            // checkpoints them. (The close below commits again, at the final revocation, if the group was rebalancing.)
            checkpointAndCommit(KafkaConsumer::CommitWhen::now);
        }
        publish();
        lagMonitor_->stop();  // the final value comes from the consumer's own view of the drained partitions
        status_.lag = consumer_->lag();
        runningFlag() = false;
        consumer_->close();
    } catch (...) {
        runningFlag() = false;
        throw;
    }
    log_(fmt::format("job {}: {} record(s) in, {} decoded, {} rejected, {} row(s) out", job_, recordsInTotal().load(),
                     status_.decoded.load(), status_.badTotal(), status_.rowsOut.load()));
    log_(fmt::format("job {}: {} checkpoint(s), {} changelog record(s) ({} bytes) to `{}`", job_, status_.checkpoints.load(),
                     status_.changelogRecords.load(), status_.changelogBytes.load(), changelog_->topic()));
    if (status_.checkpoints.load() > 0)
        log_(fmt::format("job {}: checkpoints took {} ms (writing the changelog after the sink flush, and committing)", job_,
                         status_.checkpointMicros.load() / 1000));
    const KafkaHeaderReadStats& headerReads = consumer_->headerReadStats();
    log_(fmt::format("job {}: record headers: {} read in place ({} cross-checked with librdkafka), {} through librdkafka{}", job_,
                     headerReads.inPlace, headerReads.crossChecked, headerReads.library,
                     headerReads.inPlaceDisabled ? " (in-place reading off)" : ""));
    return 0;
}

KafkaJob::KafkaJob(const plan::Pipeline& pipeline, KafkaJobOptions options, RowSink& sink, JobStatus& status)
    : impl_(std::make_unique<Impl>(pipeline, std::move(options), sink, status)) {}

KafkaJob::~KafkaJob() = default;

int KafkaJob::run(std::atomic<bool>& stop) { return impl_->run(stop); }

int runKafkaJob(const plan::Pipeline& pipeline, const KafkaJobOptions& options, RowSink& sink, std::atomic<bool>& stop,
                JobStatus& status) {
    std::vector<plan::OutputColumn> columns(pipeline.output_columns().begin(), pipeline.output_columns().end());
    sink.open(columns);
    KafkaJob job(pipeline, options, sink, status);
    return job.run(stop);
}

} // namespace pipec::runtime
