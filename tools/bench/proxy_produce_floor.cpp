// The Kafka client floor of tools/bench/proxy_throughput.sh: produces already-encoded StoreTimelineEvents (the
// length-delimited binary Protobuf of tools/bench/gen_store_events.py) with the proxy's own producer
// (proxy::ClusterProducer: idempotent, linger, lz4, the same settings) and envelope headers, keyed by the store, and
// waits for every acknowledgment. No HTTP, no JSON, no checking: what the proxy pays for Kafka alone.
//   pipec_proxy_produce_floor BROKERS TOPIC EVENTS.ldpb
// Prints `records=N cpu_seconds=S seconds=S`.
#include "proxy/cluster_producer.h"
#include "runtime/sources/envelope.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

/// Reads a base-128 varint at `at`, advancing it; false past the end.
bool readVarint(const std::string& bytes, size_t& at, uint64_t& value) {
    value = 0;
    for (int shift = 0; at < bytes.size() && shift < 64; shift += 7) {
        auto byte = static_cast<uint8_t>(bytes[at++]);
        value |= uint64_t{byte & 0x7Fu} << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

double cpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: pipec_proxy_produce_floor BROKERS TOPIC EVENTS.ldpb\n");
        return 2;
    }
    std::ifstream in(argv[3], std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string file = buffer.str();

    using namespace pipec;
    proxy::ClusterEndpoint cluster{"default", argv[1], {}};
    proxy::ClusterProducer producer(cluster, argv[1], proxy::ClusterProducer::Options{});
    runtime::EventEnvelope envelope;
    envelope.source = "floor";
    envelope.encoding = runtime::PayloadEncoding::Protobuf;
    envelope.schema = "com.doordash.timeline_events.StoreTimelineEvent";

    double cpuBefore = cpuSeconds();
    auto started = std::chrono::steady_clock::now();
    auto batch = std::make_shared<proxy::DeliveryBatch>();
    size_t records = 0;
    size_t at = 0;
    uint64_t length = 0;
    while (readVarint(file, at, length) && at + length <= file.size()) {
        proxy::EncodedRecord record;
        record.topic = argv[2];
        record.value = file.substr(at, length);
        at += length;
        // Field 1 (store_id, a varint) opens every generated message: the key, as the proxy's clients send it.
        size_t keyAt = 1;
        uint64_t store = 0;
        readVarint(*record.value, keyAt, store);
        record.key = std::to_string(store);
        envelope.createdAtMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        record.headers = runtime::encodeEnvelope(envelope);
        size_t index = batch->add();
        std::string error;
        while (producer.produce(record, batch, index, error) == proxy::EnqueueOutcome::QueueFull)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ++records;
    }
    bool complete = batch->wait(std::chrono::seconds(120));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    size_t failed = 0;
    for (size_t i = 0; i < records; ++i)
        if (!batch->report(i).delivered) ++failed;
    std::printf("records=%zu cpu_seconds=%.3f seconds=%.3f failed=%zu\n", records, cpuSeconds() - cpuBefore, seconds,
                failed);
    return complete && failed == 0 ? 0 : 1;
}
