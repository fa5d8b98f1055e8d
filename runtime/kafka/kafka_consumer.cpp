#include "runtime/kafka/kafka_consumer.h"

#include "runtime/core/user_error.h"

#include "runtime/kafka/kafka_record_headers.h"
#include "runtime/kafka/topic_admin.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <utility>
#include <iostream>
#include <stdexcept>

namespace pipec::runtime {

struct KafkaConsumer::Handle {
    rd_kafka_t* consumer = nullptr;
    // The group's join state from librdkafka's `cgrp` debug log: -1 not known, 0 rebalancing, 1 steady.
    std::atomic<int> joinState{-1};
    bool gate = false;            // reading the join state (librdkafka < 2.10)
    bool printDebug = false;      // the user asked for `debug`: debug lines are printed as librdkafka would
    int printLevel = 4;           // lines up to this syslog level are printed (the `log_level` pipec or the user set)
    rd_kafka_queue_t* queue = nullptr;     // the consumer queue (records, rebalances and errors), consumed in batches
    std::vector<rd_kafka_message_t*> batch;
    ~Handle() {
        if (queue != nullptr) rd_kafka_queue_destroy(queue);  // before the client it belongs to
        if (consumer != nullptr) rd_kafka_destroy(consumer);
    }
};

namespace {

std::vector<TopicPartition> toVector(const rd_kafka_topic_partition_list_t* list) {
    std::vector<TopicPartition> result;
    for (int i = 0; i < list->cnt; ++i) result.emplace_back(list->elems[i].topic, list->elems[i].partition);
    return result;
}

void setProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
    char error[512];
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw UserError("Kafka property `" + name + "`: " + error);
    }
}

/// The start of librdkafka 2.0.2's consumed-message container (`rd_kafka_msg_t`, src/rdkafka_msg.h): the public
/// rd_kafka_message_t comes first; the fields after it are mirrored here only to find two of them. Nothing is read
/// through this type: the offsets below are used to copy bytes, and only after the version check.
struct RdKafka202Message {
    rd_kafka_message_t message;
    void* linkNext;
    void* linkPrevious;
    int flags;
    int timestampType;
    int64_t timestamp;
    void* parsedHeaders;  // set once rd_kafka_message_headers() parsed them
    int status;
    int32_t brokerId;
    struct {
        int32_t length;
        const void* data;  // the record's header section inside the fetched buffer
    } rawHeaders;
};
constexpr int kInPlaceHeadersVersion = 0x020002ff;  // librdkafka 2.0.2, the only layout checked
// The offsets checked against librdkafka 2.0.2's source for 64-bit targets (x86-64, aarch64); anything else (a
// 32-bit build, or an edit of the mirror above) reads headers through the library.
constexpr bool kInPlaceLayoutChecked = sizeof(rd_kafka_message_t) == 72 && offsetof(RdKafka202Message, parsedHeaders) == 104 &&
                                       offsetof(RdKafka202Message, rawHeaders.length) == 120 &&
                                       offsetof(RdKafka202Message, rawHeaders.data) == 128;

template <typename T>
T fieldAt(const void* message, size_t offset) {
    T value;
    std::memcpy(&value, static_cast<const char*>(message) + offset, sizeof value);
    return value;
}

} // namespace

/// Lets the C rebalance callback reach the private member.
struct KafkaConsumerRebalanceAccess {
    static void handle(KafkaConsumer& consumer, int error, void* partitions) {
        consumer.handleRebalance(error, partitions);
    }
    static KafkaConsumer::Handle* handleOf(KafkaConsumer& consumer) { return consumer.handle_.get(); }
};

namespace {
void rebalanceTrampoline(rd_kafka_t*, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* partitions,
                         void* opaque) {
    KafkaConsumerRebalanceAccess::handle(*static_cast<KafkaConsumer*>(opaque), error, partitions);
}

/// librdkafka's log callback for a consumer whose join state is read (see deferCommitsWhileRebalancing). librdkafka
/// 2.0.2 exposes the state nowhere else: its `cgrp` debug context logs every change as
/// `Group "G" changed join state OLD -> NEW (state S)` under the facility CGRPJOINSTATE. Other lines are printed the
/// way librdkafka's default logger prints them, if their level was asked for.
void consumerLog(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    void* opaque = rd_kafka_opaque(rk);
    if (opaque == nullptr) return;
    KafkaConsumer::Handle* handle = KafkaConsumerRebalanceAccess::handleOf(*static_cast<KafkaConsumer*>(opaque));
    if (std::strcmp(facility, "CGRPJOINSTATE") == 0) {
        std::string_view text(line);
        size_t arrow = text.find(" -> ");
        if (arrow != std::string_view::npos) {
            std::string_view next = text.substr(arrow + 4);
            next = next.substr(0, next.find(' '));
            handle->joinState.store(next == "steady" ? 1 : 0, std::memory_order_release);
        }
    }
    if (level > handle->printLevel || (level >= 7 && !handle->printDebug)) return;
    timespec now{};
    std::timespec_get(&now, TIME_UTC);
    std::fprintf(stderr, "%%%i|%lld.%03ld|%s|%s| %s\n", level, static_cast<long long>(now.tv_sec), now.tv_nsec / 1000000, facility,
                 rd_kafka_name(rk), line);
}
} // namespace

KafkaConsumer::KafkaConsumer(KafkaConsumerOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
    if (!options_.log) options_.log = [](const std::string& line) { std::cerr << "kafka: " << line << "\n"; };
    if (options_.topics.empty()) throw std::invalid_argument("a Kafka consumer needs at least one topic");
    headerStats_.inPlaceDisabled =
        !options_.inPlaceHeaders || !kInPlaceLayoutChecked || rd_kafka_version() != kInPlaceHeadersVersion;
    if (options_.inPlaceHeaders && headerStats_.inPlaceDisabled)
        options_.log(std::string("librdkafka ") + rd_kafka_version_str() +
                     ": record headers are read through librdkafka (reading them in place is checked for 2.0.2 on "
                     "64-bit targets only; about 0.15 us more CPU per record)");
    if (options_.headerCrossCheckEvery == 0) options_.headerCrossCheckEvery = 1;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    setProperty(conf, "bootstrap.servers", options_.brokers);
    setProperty(conf, "group.id", options_.groupId);
    setProperty(conf, "partition.assignment.strategy", "cooperative-sticky");
    // At-least-once: offsets are committed explicitly, only after the sink flushed.
    setProperty(conf, "enable.auto.commit", "false");
    setProperty(conf, "enable.auto.offset.store", "false");
    setProperty(conf, "auto.offset.reset", "earliest");
    setProperty(conf, "session.timeout.ms", std::to_string(options_.sessionTimeoutMs));
    if (!options_.instanceId.empty()) setProperty(conf, "group.instance.id", options_.instanceId);
    setProperty(conf, "heartbeat.interval.ms", std::to_string(std::max(100, options_.sessionTimeoutMs / 4)));
    setProperty(conf, "enable.partition.eof", options_.reportEndOfPartition ? "true" : "false");
    setProperty(conf, "log_level", "4");
    // librdkafka (before 2.1) stops fetching for a whole second once this many records wait in the client's queue
    // (default 100000): a consumer faster than that stalled ~1 s in every ~1.3 s (measured: 500k records in 3.7 s
    // instead of 0.9 s). The queue stays bounded by queued.max.messages.kbytes.
    setProperty(conf, "queued.min.messages", "1000000");
    // Fetch responses of at most 6 MiB instead of librdkafka's 50 MiB: each response is one allocation that lives
    // until its last record was consumed, and buffers this size are reused by the allocator (jemalloc hands anything
    // over 8 MiB back to the kernel at once, so every large response was page-faulted in afresh). Measured with
    // tools/bench/e2e_throughput.sh: pipec CPU per record -15%, the client floor -15%.
    setProperty(conf, "fetch.max.bytes", "6291456");
    for (const auto& [name, value] : options_.properties) setProperty(conf, name, value);
    if (options_.deferCommitsWhileRebalancing && rd_kafka_version() < 0x020a0000) {
        // Read the join state from the `cgrp` debug context (see consumerLog); print only what was asked for.
        Handle& handle = *handle_;
        handle.gate = true;
        auto debug = options_.properties.find("debug");
        handle.printDebug = debug != options_.properties.end() && !debug->second.empty();
        auto level = options_.properties.find("log_level");
        handle.printLevel = handle.printDebug ? 7 : level != options_.properties.end() ? std::atoi(level->second.c_str()) : 4;
        setProperty(conf, "debug", handle.printDebug ? debug->second + ",cgrp" : std::string("cgrp"));
        rd_kafka_conf_set_log_cb(conf, consumerLog);
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalanceTrampoline);
    rd_kafka_conf_set_opaque(conf, this);

    char error[512];
    handle_->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (handle_->consumer == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw UserError(std::string("cannot create the Kafka consumer: ") + error);
    }
    // Serve rebalance events and messages from one queue, so everything runs on the polling thread.
    rd_kafka_poll_set_consumer(handle_->consumer);
    handle_->queue = rd_kafka_queue_get_consumer(handle_->consumer);

    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size()));
    for (const auto& topic : options_.topics) rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t subscribeError = rd_kafka_subscribe(handle_->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (subscribeError != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw UserError(std::string("cannot subscribe: ") + rd_kafka_err2str(subscribeError), UserError::kEnvironmentRefused);
}

KafkaConsumer::~KafkaConsumer() { close(false); }

void KafkaConsumer::handleRebalance(int errorCode, void* raw) {
    auto* partitions = static_cast<rd_kafka_topic_partition_list_t*>(raw);
    rd_kafka_t* consumer = handle_->consumer;
    bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer), "COOPERATIVE") == 0;
    std::vector<TopicPartition> changed = toVector(partitions);
    if (errorCode == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_error_t* assignError = nullptr;
        if (cooperative) {
            assignError = rd_kafka_incremental_assign(consumer, partitions);
        } else {
            rd_kafka_assign(consumer, partitions);
        }
        if (assignError != nullptr) {
            options_.log(std::string("incremental assign failed: ") + rd_kafka_error_string(assignError));
            rd_kafka_error_destroy(assignError);
            return;
        }
        for (const auto& partition : changed) assigned_.insert(partition);
        // Exceptions must not unwind through librdkafka's C frames: keep them for poll() to rethrow.
        try {
            if (assignHandler_) assignHandler_(changed);
        } catch (...) {
            callbackError_ = std::current_exception();
        }
        return;
    }
    // Revocation: unless the partitions were lost (another member may already own them), let the owner flush and
    // commit while we still own them, so the next owner resumes exactly after what we delivered.
    bool lost = rd_kafka_assignment_lost(consumer) != 0;
    if (abandoning_) {
        // Closing after a failure: nothing more is flushed, so nothing more may be committed.
    } else if (!lost) {
        try {
            if (revokeHandler_) revokeHandler_(changed);
            commit(&changed);
            if (revokedHandler_) revokedHandler_(changed);
        } catch (...) {
            // The flush failed: do not commit; the next owner re-reads these records.
            callbackError_ = std::current_exception();
        }
    } else {
        options_.log("partitions lost without a clean revoke; uncommitted records will be re-delivered elsewhere");
        try {
            if (lostHandler_) lostHandler_(changed);
        } catch (...) {
            callbackError_ = std::current_exception();
        }
    }
    if (cooperative) {
        rd_kafka_error_t* unassignError = rd_kafka_incremental_unassign(consumer, partitions);
        if (unassignError != nullptr) {
            options_.log(std::string("incremental unassign failed: ") + rd_kafka_error_string(unassignError));
            rd_kafka_error_destroy(unassignError);
        }
    } else {
        rd_kafka_assign(consumer, nullptr);
    }
    for (const auto& partition : changed) {
        revokedDuringPoll_.insert(partition);
        assigned_.erase(partition);
        atEnd_.erase(partition);
        nextOffset_.erase(partition);
        committedOffset_.erase(partition);
    }
}

size_t KafkaConsumer::poll(size_t maxRecords, int timeoutMs, const RecordHandler& handler) {
    // Records are taken in batches: one call per batch instead of one per record (each call reads the clock and
    // sets up a wait). Rebalance callbacks run inside these calls, before the records of the batch are handed out.
    auto& batch = handle_->batch;
    if (batch.size() < maxRecords) batch.resize(maxRecords);
    revokedDuringPoll_.clear();
    // Take what is queued without waiting; wait (up to timeoutMs) only when nothing is, and then only for the first.
    ssize_t taken = rd_kafka_consume_batch_queue(handle_->queue, 0, batch.data(), maxRecords);
    if (taken == 0 && timeoutMs > 0 && !callbackError_)
        taken = rd_kafka_consume_batch_queue(handle_->queue, timeoutMs, batch.data(), 1);
    if (taken < 0) {
        options_.log(std::string("consume failed: ") + rd_kafka_err2str(rd_kafka_last_error()));
        taken = 0;
    }
    const size_t count = static_cast<size_t>(taken);
    size_t next = 0;
    // Every message taken is destroyed exactly once, also when a handler throws.
    struct DestroyRest {
        std::vector<rd_kafka_message_t*>& batch;
        size_t& next;
        size_t count;
        ~DestroyRest() {
            for (; next < count; ++next) rd_kafka_message_destroy(batch[next]);
        }
    } destroyRest{batch, next, count};
    if (callbackError_) std::rethrow_exception(std::exchange(callbackError_, nullptr));

    size_t delivered = 0;
    // Records come in runs from one partition: its name, map entry and end flag are looked up once per run, not per
    // record. Any end-of-partition event or error ends the run (rebalances happen before the batch is handed out).
    const rd_kafka_topic_t* runTopic = nullptr;
    int32_t runPartition = -1;
    TopicPartition partition;
    int64_t* nextOffset = nullptr;
    for (; next < count; ++next) {
        rd_kafka_message_t* message = batch[next];
        if (message->rkt != runTopic || message->partition != runPartition || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            partition = TopicPartition(message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "", message->partition);
            runTopic = nullptr;  // set again below once this is a record
        }
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            atEnd_.insert(partition);
            rd_kafka_message_destroy(message);
            continue;
        }
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::string text = rd_kafka_message_errstr(message);
            rd_kafka_resp_err_t code = message->err;
            rd_kafka_message_destroy(message);
            char fatal[256];
            if (rd_kafka_fatal_error(handle_->consumer, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                ++next;
                throw UserError(std::string("fatal Kafka error: ") + fatal, UserError::kEnvironmentRefused);
            }
            options_.log(std::string("consume error: ") + rd_kafka_err2name(code) + ": " + text);
            continue;
        }
        if (runTopic == nullptr) {
            // Records queued before a revocation that happened while this batch was taken belong to the partition's
            // next owner, which resumes at the offset committed with the revocation: not handed out here.
            if (revokedDuringPoll_.contains(partition) && !assigned_.contains(partition)) {
                rd_kafka_message_destroy(message);
                continue;
            }
            atEnd_.erase(partition);
            nextOffset = &nextOffset_[partition];
            runTopic = message->rkt;
            runPartition = message->partition;
            ++runs_;
        }
        // A partition revoked and assigned again within one batch delivers its old records and then the same offsets
        // again from the commit: each offset is handed out once.
        if (message->offset < *nextOffset) {
            rd_kafka_message_destroy(message);
            continue;
        }
        // The headers are viewed in place (they live as long as the message): no copies per record.
        readHeaders(message);
        rd_kafka_timestamp_type_t timestampType;
        int64_t timestamp = rd_kafka_message_timestamp(message, &timestampType);
        KafkaRecord record{partition.first,
                           message->partition,
                           message->offset,
                           std::string_view(static_cast<const char*>(message->key), message->key_len),
                           std::string_view(static_cast<const char*>(message->payload), message->len),
                           headers_,
                           timestamp,
                           runs_,
                           message->payload == nullptr};
        *nextOffset = message->offset + 1;
        handler(record);  // on a throw, DestroyRest destroys this message and the rest
        rd_kafka_message_destroy(message);
        ++delivered;
    }
    return delivered;
}

namespace {
/// The library's own parse of a record's headers (allocates them on the message, freed with it).
void libraryHeaders(rd_kafka_message_t* message, std::vector<HeaderView>& out) {
    out.clear();
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
        out.emplace_back(std::string_view(name),
                         value != nullptr ? std::string_view(static_cast<const char*>(value), size) : std::string_view());
}
} // namespace

void KafkaConsumer::readHeaders(void* opaque) {
    auto* message = static_cast<rd_kafka_message_t*>(opaque);
    headers_.clear();
    if (!headerStats_.inPlaceDisabled && message->payload != nullptr &&
        fieldAt<void*>(message, offsetof(RdKafka202Message, parsedHeaders)) == nullptr) {
        const auto length = fieldAt<int32_t>(message, offsetof(RdKafka202Message, rawHeaders.length));
        const auto* data = fieldAt<const char*>(message, offsetof(RdKafka202Message, rawHeaders.data));
        // A record's header section follows its value in the fetched bytes: finding it exactly there confirms the
        // layout for this record (and is false for the older message formats, which have no headers).
        if (data == static_cast<const char*>(message->payload) + message->len && length > 0 &&
            parseKafkaHeaderSection(std::string_view(data, static_cast<size_t>(length)), headers_)) {
            if (headerStats_.inPlace++ % options_.headerCrossCheckEvery == 0) {
                ++headerStats_.crossChecked;
                libraryHeaders(message, checkHeaders_);
                if (headers_ != checkHeaders_) {
                    headerStats_.inPlaceDisabled = true;
                    options_.log(std::string("record headers read in place differ from librdkafka's at ") +
                                 rd_kafka_topic_name(message->rkt) + " [" + std::to_string(message->partition) +
                                 "] offset " + std::to_string(message->offset) +
                                 ": reading them through librdkafka from now on");
                    headers_ = checkHeaders_;
                    --headerStats_.inPlace;  // this record's headers came from the library after all
                    ++headerStats_.library;
                }
            }
            return;
        }
        headers_.clear();
    }
    ++headerStats_.library;
    libraryHeaders(message, headers_);
}

bool KafkaConsumer::commit(const std::vector<TopicPartition>* only) {
    rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(static_cast<int>(nextOffset_.size()));
    for (const auto& [partition, handedOut] : nextOffset_) {
        if (only != nullptr && std::find(only->begin(), only->end(), partition) == only->end()) continue;
        int64_t next = commitPosition_ ? std::min(handedOut, commitPosition_(partition, handedOut)) : handedOut;
        if (next < 0) continue;
        std::string metadata = commitMetadata_ ? commitMetadata_(partition) : std::string();
        // Committed again when the offset moved, and also when only the metadata changed: a watermark that moved on
        // without new offsets must not be read back stale by the partition's next owner.
        auto committed = committedOffset_.find(partition);
        if (committed != committedOffset_.end() && committed->second.first >= next && committed->second.second == metadata)
            continue;
        rd_kafka_topic_partition_t* element = rd_kafka_topic_partition_list_add(offsets, partition.first.c_str(), partition.second);
        element->offset = next;
        if (!metadata.empty()) {
            // librdkafka takes ownership of the metadata buffer (freed with the list).
            element->metadata = std::malloc(metadata.size());
            std::memcpy(element->metadata, metadata.data(), metadata.size());
            element->metadata_size = metadata.size();
        }
    }
    if (offsets->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(offsets);
        return true;
    }
    rd_kafka_resp_err_t error = rd_kafka_commit(handle_->consumer, offsets, 0 /* synchronous */);
    bool ok = error == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (ok) {
        for (int i = 0; i < offsets->cnt; ++i) {
            const auto& element = offsets->elems[i];
            if (element.err == RD_KAFKA_RESP_ERR_NO_ERROR)
                committedOffset_[{element.topic, element.partition}] = {
                    element.offset, std::string(static_cast<const char*>(element.metadata), element.metadata_size)};
            else
                ok = false;
        }
    }
    if (!ok) {
        ++failedCommits_;
        options_.log(std::string("offset commit failed: ") + rd_kafka_err2str(error));
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    return ok;
}

bool KafkaConsumer::groupSteady() const { return handle_->joinState.load(std::memory_order_acquire) != 0; }

CommitResult KafkaConsumer::commitProcessed(CommitWhen when) {
    if (when == CommitWhen::groupSteady && handle_->gate && !groupSteady()) {
        // Sent now, the commit would be queued behind this member's JoinGroup and meet the next generation.
        ++deferredCommits_;
        if (!deferring_)
            options_.log("offset commit deferred while the consumer group rebalances (librdkafka " + std::string(rd_kafka_version_str()) +
                         " would declare the assignment lost if the commit met the next generation)");
        deferring_ = true;
        return CommitResult::deferred;
    }
    deferring_ = false;
    return commit(nullptr) ? CommitResult::committed : CommitResult::failed;
}

std::map<TopicPartition, std::pair<int64_t, std::string>> KafkaConsumer::committedOffsets(const std::vector<TopicPartition>& partitions,
                                                                                         int timeoutMs) {
    std::map<TopicPartition, std::pair<int64_t, std::string>> result;
    if (partitions.empty()) return result;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (const auto& partition : partitions) rd_kafka_topic_partition_list_add(list, partition.first.c_str(), partition.second);
    rd_kafka_resp_err_t error = rd_kafka_committed(handle_->consumer, list, timeoutMs);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(list);
        throw std::runtime_error(std::string("cannot read the group's committed offsets: ") + rd_kafka_err2str(error));
    }
    for (int i = 0; i < list->cnt; ++i) {
        const auto& element = list->elems[i];
        if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR || element.offset < 0) continue;
        std::string metadata = element.metadata == nullptr ? std::string()
                                                           : std::string(static_cast<const char*>(element.metadata), element.metadata_size);
        result[{element.topic, element.partition}] = {element.offset, std::move(metadata)};
    }
    rd_kafka_topic_partition_list_destroy(list);
    return result;
}

int KafkaConsumer::partitionCount(const std::string& topic, int timeoutMs) {
    return topicPartitionCount(handle_->consumer, topic, timeoutMs);
}

bool KafkaConsumer::allPartitionsAtEnd() const {
    if (assigned_.empty() || atEnd_.size() < assigned_.size()) return false;  // checked after every poll: cheap first
    for (const auto& partition : assigned_)
        if (!atEnd_.contains(partition)) return false;
    return true;
}

std::vector<TopicPartition> KafkaConsumer::assignment() const { return {assigned_.begin(), assigned_.end()}; }

int64_t KafkaConsumer::lag() const {
    int64_t total = 0;
    for (const auto& partition : assigned_) {
        int64_t low = 0;
        int64_t high = 0;
        if (rd_kafka_get_watermark_offsets(handle_->consumer, partition.first.c_str(), partition.second, &low, &high) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            high < 0)
            return -1;
        auto next = nextOffset_.find(partition);
        int64_t position = next != nextOffset_.end() ? next->second : low;
        auto committed = committedOffset_.find(partition);
        if (next == nextOffset_.end() && committed != committedOffset_.end()) position = committed->second.first;
        total += std::max<int64_t>(0, high - position);
    }
    return total;
}

std::map<TopicPartition, int64_t> KafkaConsumer::positions() const {
    std::map<TopicPartition, int64_t> result;
    for (const auto& partition : assigned_) {
        auto next = nextOffset_.find(partition);
        auto committed = committedOffset_.find(partition);
        result[partition] = next != nextOffset_.end()          ? next->second
                            : committed != committedOffset_.end() ? committed->second.first
                                                                  : -1;
    }
    return result;
}

void KafkaConsumer::close(bool commitFirst) {
    if (closed_ || !handle_->consumer) return;
    closed_ = true;
    if (commitFirst) commitProcessed();
    abandoning_ = !commitFirst;
    // rd_kafka_consumer_close runs the final revoke through the rebalance callback; the owner's revoke handler
    // flushes, and the commit in handleRebalance is then a no-op for already committed offsets.
    rd_kafka_consumer_close(handle_->consumer);
    if (callbackError_) {
        options_.log("while closing the consumer: the final flush failed; its records will be re-delivered");
        callbackError_ = nullptr;
    }
}

} // namespace pipec::runtime
