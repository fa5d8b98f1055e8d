#pragma once

#include "runtime/kafka/kafka_partition_watermarks.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace pipec::runtime {

struct LagMonitorOptions {
    std::string brokers;
    /// The job's consumer group: a partition whose position the job does not know yet counts from the group's
    /// committed offset (read with this client, which never joins the group), else from its low watermark.
    std::string groupId;
    std::map<std::string, std::string> properties; // the cluster's librdkafka settings (security, ...)
    int64_t intervalMs = 5000;                     // between two queries of the high watermarks
    int queryTimeoutMs = 5000;                     // per query; a query that fails publishes -1 (unknown)
    /// Where to log a failed query (once per run of failures); default stderr.
    std::function<void(const std::string&)> log;
};

/// Keeps a job's consumer lag current from the broker's high watermarks, on its own thread and its own librdkafka
/// handle. The job's consumer only learns high watermarks from its fetches, and the job published them only after a
/// commit; while the job waits on a stalled sink (back-pressure) it neither polls nor commits, so its lag froze at
/// the last value while the topic kept growing. This thread asks the broker itself, whatever the job thread does.
///
/// The job thread tells it what it owns and how far it got (`setPositions`, cheap: a copy under a mutex); each round
/// publishes lag = Σ over those partitions of max(0, high watermark − position) into the atomic it was given, or -1
/// when the broker could not be asked (and 0 with no partition).
class LagMonitor {
public:
    /// Starts the thread. The handle is created on it, so a slow or unreachable broker never delays the caller.
    LagMonitor(LagMonitorOptions options, std::atomic<int64_t>& lag);
    ~LagMonitor();
    LagMonitor(const LagMonitor&) = delete;
    LagMonitor& operator=(const LagMonitor&) = delete;

    /// The partitions assigned to the job and, for each, the offset of the next record it will process (the one
    /// after the last record handed out, or the committed offset); a negative position means not known yet, and
    /// counts from the group's committed offset, or the partition's low watermark when it has none. Replaces the previous set; the next round uses it.
    void setPositions(std::map<TopicPartition, int64_t> positions);
    /// Asks for a round now instead of at the end of the interval (after an assignment, and in tests).
    void refresh();
    /// Rounds completed so far (each published a value).
    uint64_t rounds() const { return rounds_.load(); }
    /// Stops and joins the thread; idempotent. The value last published stays.
    void stop();

private:
    void run();
    /// One round: the lag of `positions`, or -1 when a query failed.
    int64_t measure(void* handle, const std::map<TopicPartition, int64_t>& positions);

    LagMonitorOptions options_;
    std::atomic<int64_t>& lag_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<TopicPartition, int64_t> positions_;  // guarded by mutex_
    bool refreshRequested_ = false;                // guarded by mutex_
    bool stopping_ = false;                        // guarded by mutex_
    bool failing_ = false;                         // the last round failed (only the thread touches it)
    std::atomic<uint64_t> rounds_{0};
    std::thread thread_;
};

} // namespace pipec::runtime
