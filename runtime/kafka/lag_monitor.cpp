#include "runtime/kafka/lag_monitor.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

namespace pipec::runtime {
namespace {

struct HandleDeleter {
    void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct PartitionListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

/// A client that only asks for offsets: a consumer type (so the cluster's consumer settings apply without warnings)
/// that never subscribes, so it never joins the job's group and cannot disturb its assignment; the group id only
/// lets it read the group's committed offsets.
KafkaHandle createHandle(const LagMonitorOptions& options, std::string& error) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char text[512];
    auto set = [&](const std::string& name, const std::string& value) {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), text, sizeof text) == RD_KAFKA_CONF_OK) return true;
        error = "Kafka property `" + name + "`: " + text;
        return false;
    };
    // Connection problems are the job consumer's to report; this client would only repeat them.
    bool ok = set("bootstrap.servers", options.brokers) && set("log_level", "3") &&
              (options.groupId.empty() || set("group.id", options.groupId));
    for (const auto& [name, value] : options.properties) ok = ok && set(name, value);
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return nullptr;
    }
    rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, text, sizeof text);
    if (handle == nullptr) {
        rd_kafka_conf_destroy(conf);
        error = std::string("cannot create a Kafka client: ") + text;
    }
    return KafkaHandle(handle);
}

/// The offsets at one end of each partition (RD_KAFKA_OFFSET_END: high watermarks, RD_KAFKA_OFFSET_BEGINNING: low),
/// in one batched ListOffsets request per broker rather than one round trip per partition.
bool queryOffsets(rd_kafka_t* handle, const std::vector<TopicPartition>& partitions, int64_t end, int timeoutMs,
                  std::map<TopicPartition, int64_t>& offsets, std::string& error) {
    if (partitions.empty()) return true;
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (const auto& [topic, partition] : partitions)
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = end;
    rd_kafka_resp_err_t result = rd_kafka_offsets_for_times(handle, list.get(), timeoutMs);
    if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = rd_kafka_err2str(result);
        return false;
    }
    for (int i = 0; i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& element = list->elems[i];
        if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR || element.offset < 0) {
            error = fmt::format("{}/{}: {}", element.topic, element.partition,
                                element.err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(element.err) : "no offset");
            return false;
        }
        offsets[TopicPartition(element.topic, element.partition)] = element.offset;
    }
    return true;
}

/// The group's committed offsets of `partitions`; partitions without a commit are left out.
bool queryCommitted(rd_kafka_t* handle, const std::vector<TopicPartition>& partitions, int timeoutMs,
                    std::map<TopicPartition, int64_t>& offsets, std::string& error) {
    if (partitions.empty()) return true;
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (const auto& [topic, partition] : partitions) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
    rd_kafka_resp_err_t result = rd_kafka_committed(handle, list.get(), timeoutMs);
    if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = std::string("committed offsets: ") + rd_kafka_err2str(result);
        return false;
    }
    for (int i = 0; i < list->cnt; ++i)
        if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[i].offset >= 0)
            offsets[TopicPartition(list->elems[i].topic, list->elems[i].partition)] = list->elems[i].offset;
    return true;
}

} // namespace

LagMonitor::LagMonitor(LagMonitorOptions options, std::atomic<int64_t>& lag) : options_(std::move(options)), lag_(lag) {
    if (!options_.log) options_.log = [](const std::string& line) { std::cerr << line << "\n"; };
    if (options_.intervalMs <= 0) options_.intervalMs = 1;
    thread_ = std::thread([this] { run(); });
}

LagMonitor::~LagMonitor() { stop(); }

void LagMonitor::setPositions(std::map<TopicPartition, int64_t> positions) {
    std::lock_guard lock(mutex_);
    positions_ = std::move(positions);
}

void LagMonitor::refresh() {
    {
        std::lock_guard lock(mutex_);
        refreshRequested_ = true;
    }
    wake_.notify_all();
}

void LagMonitor::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

int64_t LagMonitor::measure(void* opaque, const std::map<TopicPartition, int64_t>& positions) {
    auto* handle = static_cast<rd_kafka_t*>(opaque);
    std::vector<TopicPartition> all;
    std::vector<TopicPartition> unknown;
    for (const auto& [partition, position] : positions) {
        all.push_back(partition);
        if (position < 0) unknown.push_back(partition);
    }
    std::map<TopicPartition, int64_t> high;
    std::map<TopicPartition, int64_t> start;  // where the job starts reading a partition it has no position of
    std::string error;
    bool ok = queryOffsets(handle, all, RD_KAFKA_OFFSET_END, options_.queryTimeoutMs, high, error);
    if (ok && !options_.groupId.empty()) {
        ok = queryCommitted(handle, unknown, options_.queryTimeoutMs, start, error);
        std::erase_if(unknown, [&](const TopicPartition& partition) { return start.count(partition) > 0; });
    }
    if (ok) ok = queryOffsets(handle, unknown, RD_KAFKA_OFFSET_BEGINNING, options_.queryTimeoutMs, start, error);
    if (!ok) {
        if (!failing_) options_.log("lag monitor: cannot read the partitions' high watermarks: " + error);
        failing_ = true;
        return -1;
    }
    if (failing_) options_.log("lag monitor: high watermarks readable again");
    failing_ = false;
    int64_t total = 0;
    for (const auto& [partition, position] : positions) {
        int64_t from = position >= 0 ? position : start[partition];
        total += std::max<int64_t>(0, high[partition] - from);
    }
    return total;
}

void LagMonitor::run() {
    KafkaHandle handle;
    for (;;) {
        std::map<TopicPartition, int64_t> positions;
        {
            std::unique_lock lock(mutex_);
            if (stopping_) return;
            positions = positions_;
        }
        if (positions.empty()) {
            lag_ = 0;
        } else {
            if (!handle) {
                std::string error;
                handle = createHandle(options_, error);
                if (!handle && !failing_) options_.log("lag monitor: " + error);
                failing_ = !handle;
            }
            lag_ = handle ? measure(handle.get(), positions) : -1;
        }
        rounds_++;
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(options_.intervalMs),
                       [this] { return stopping_ || refreshRequested_; });
        refreshRequested_ = false;
    }
}

} // namespace pipec::runtime
