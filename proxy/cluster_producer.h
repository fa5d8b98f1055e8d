#pragma once

#include "proxy/record_encoder.h"
#include "proxy/topic_directory.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pipec::proxy {

/// The broker's answer for one record.
struct DeliveryReport {
    bool delivered = false;
    int32_t partition = -1;
    int64_t offset = -1;
    int64_t timestampMs = -1;
    std::string error;      // when not delivered
    bool retriable = false; // the failure may pass (a timeout, the cluster away): 503, else 500
};

/// The records of one request that wait for their delivery reports (sync mode). The producer's delivery callback
/// completes them from its polling thread; the request thread waits. A streamed request adds its records one by one
/// while earlier ones are already being delivered; each costs a small slot (the error text only when it failed), so
/// a long stream holds little per record.
class DeliveryBatch {
public:
    explicit DeliveryBatch(size_t size = 0) : slots_(size), pending_(0) {}
    /// Adds a slot for one more record (streaming); returns its index.
    size_t add() {
        std::lock_guard lock(mutex_);
        slots_.emplace_back();
        return slots_.size() - 1;
    }
    /// Counts one more record to wait for. Under the lock: the delivery callbacks of the request's earlier records
    /// decrement the count on the polling thread while later ones are still being queued (a lost update here left a
    /// request waiting for its full timeout with every record delivered, found by tools/bench/proxy_throughput.sh).
    void expect() {
        std::lock_guard lock(mutex_);
        ++pending_;
    }
    void complete(size_t index, DeliveryReport report);
    /// Waits until every expected record is reported; false on timeout.
    bool wait(std::chrono::milliseconds timeout);
    DeliveryReport report(size_t index) const;

private:
    struct Slot {
        int64_t offset = -1;
        int64_t timestampMs = -1;
        int32_t partition = -1;
        bool delivered = false;
        bool retriable = false;
    };
    mutable std::mutex mutex_;
    std::condition_variable done_;
    std::deque<Slot> slots_;
    std::map<size_t, std::string> errors_; // of the records that failed
    size_t pending_;
};

/// Why a record was not enqueued.
enum class EnqueueOutcome {
    Queued,
    QueueFull,          // the local queue is full: back-pressure (429 + Retry-After)
    ClusterUnavailable, // every broker is down (503 + Retry-After)
    Refused,            // a non-retriable error (unknown partition, record too large): 400/500
};

/// The producer of one cluster: librdkafka's idempotent producer (acks=all, ordered retries without duplicates),
/// batched by `linger.ms` and compressed; per-record delivery reports with partition, offset and timestamp. A
/// thread serves the delivery callbacks and watches whether the cluster is reachable.
class ClusterProducer {
public:
    struct Options {
        int lingerMs = 5;
        std::string compression = "lz4";
        int deliveryTimeoutMs = 30000;            // message.timeout.ms: a record is reported failed after this
        std::map<std::string, std::string> extra; // --property NAME=VALUE, over the cluster's own properties
    };
    /// Throws UserError when the client cannot be created (a bad property).
    ClusterProducer(const ClusterEndpoint &cluster, const std::string &bootstrapServers, const Options &options);
    ~ClusterProducer();
    ClusterProducer(const ClusterProducer &) = delete;
    ClusterProducer &operator=(const ClusterProducer &) = delete;

    /// Enqueues a record; with a batch, its report goes to `batch` at `index` (sync mode), else only to the counters.
    EnqueueOutcome produce(const EncodedRecord &record, const std::shared_ptr<DeliveryBatch> &batch, size_t index,
                           std::string &error);

    /// Fetches metadata of `topics` (all must exist with at least one partition); false with the reason otherwise.
    bool fetchMetadata(const std::vector<std::string> &topics, int timeoutMs, std::string &error);
    /// Partition count and replication factor of a topic from the last successful metadata fetch (0 when unknown).
    std::pair<int, int> topicShape(const std::string &topic) const;

    /// Records waiting in the local queue or in flight.
    int queueDepth() const;
    /// Whether the client reported every broker down and no delivery or metadata request succeeded since.
    bool clusterDown() const { return down_.load(); }
    const std::string &name() const { return name_; }
    const std::string &bootstrapServers() const { return bootstrap_; }
    /// Waits for queued records; false when some are still queued after `timeoutMs`.
    bool flush(int timeoutMs);

    uint64_t delivered() const { return delivered_.load(); }
    uint64_t failed() const { return failed_.load(); }

    struct Handle;
    /// Called from librdkafka's callbacks (the polling thread).
    void recordReport(bool delivered);
    void markDown(const std::string &reason);

private:
    void poll();

    std::string name_;
    std::string bootstrap_;
    std::unique_ptr<Handle> handle_;
    std::atomic<bool> down_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<uint64_t> delivered_{0};
    std::atomic<uint64_t> failed_{0};
    mutable std::mutex shapesMutex_;
    std::map<std::string, std::pair<int, int>> shapes_;
    std::thread poller_;
};

} // namespace pipec::proxy
