// The Kafka client floor for tools/bench/e2e_throughput.sh: consumes a topic to its end with pipec's own consumer
// (same librdkafka settings, same group protocol, headers read in place) and does nothing with the records except
// touch their payload. Its CPU time per record is what any job built on this client pays before decoding or
// aggregating anything; the benchmark prints pipec's CPU against it, measured in the same run.
//   pipec_kafka_floor BROKERS TOPIC GROUP [NAME=VALUE ...]   (extra librdkafka properties, as pipec's --set gives them)
#include "runtime/kafka/kafka_consumer.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: pipec_kafka_floor BROKERS TOPIC GROUP [NAME=VALUE ...]\n");
        return 2;
    }
    pipec::runtime::KafkaConsumerOptions options;
    options.brokers = argv[1];
    options.topics = {argv[2]};
    options.groupId = argv[3];
    options.reportEndOfPartition = true;
    for (int i = 4; i < argc; ++i) {
        std::string property = argv[i];
        size_t equals = property.find('=');
        if (equals == std::string::npos) {
            std::fprintf(stderr, "pipec_kafka_floor: `%s` is not NAME=VALUE\n", argv[i]);
            return 2;
        }
        options.properties[property.substr(0, equals)] = property.substr(equals + 1);
    }
    options.log = [](const std::string& line) { std::fprintf(stderr, "kafka: %s\n", line.c_str()); };
    pipec::runtime::KafkaConsumer consumer(options);
    uint64_t records = 0;
    uint64_t checksum = 0;
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> firstRecord;
    while (!consumer.allPartitionsAtEnd()) {
        consumer.poll(1000, 100, [&](const pipec::runtime::KafkaRecord& record) {
            if (!firstRecord) firstRecord = Clock::now();
            ++records;
            checksum += record.payload.empty() ? 0 : static_cast<unsigned char>(record.payload.back());
            checksum += record.headers.size();
        });
    }
    double seconds = firstRecord ? std::chrono::duration<double>(Clock::now() - *firstRecord).count() : 0;
    consumer.close(false);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::printf("records=%llu cpu_seconds=%.3f consume_seconds=%.3f max_rss_kb=%ld checksum=%llu\n",
                static_cast<unsigned long long>(records), cpu, seconds, usage.ru_maxrss,
                static_cast<unsigned long long>(checksum));
    return 0;
}
