// The HTTP client of tools/bench/proxy_throughput.sh: posts one request body over and over from several keep-alive
// connections and reports requests, records, wall time and the latency percentiles of the answers.
//   pipec_proxy_load URL PATH CONTENT_TYPE BODY_FILE RECORDS_PER_REQUEST REQUESTS CONNECTIONS [chunked]
// `chunked`: the body is sent with chunked transfer encoding in 16 KiB pieces (v3 streaming read as it arrives).
// Prints one line: `requests=N records=N seconds=S p50_ms=X p99_ms=X failed=N statuses=CODE:N,...`. A request
// counts as failed unless it answered 200 or 202 and, for per-record answers, every record did too.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Whether every record of a 200/202 answer was accepted: v3 streaming answers one object per record (a refused one
/// has a 4xx/5xx `error_code`), v2 one `offsets` entry per record (a refused one has `error_code` 1 or 2). A string
/// search rather than a JSON parse: the client shares the machine's cores with the proxy it measures.
bool everyRecordAccepted(const std::string& body) {
    for (const char* refused : {"\"error_code\":1,", "\"error_code\":2,", "\"error_code\":4", "\"error_code\":5"})
        if (body.find(refused) != std::string::npos) return false;
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 8 && !(argc == 9 && std::string(argv[8]) == "chunked")) {
        std::fprintf(stderr, "usage: %s URL PATH CONTENT_TYPE BODY_FILE RECORDS_PER_REQUEST REQUESTS CONNECTIONS [chunked]\n",
                     argv[0]);
        return 2;
    }
    std::string url = argv[1], path = argv[2], contentType = argv[3];
    std::ifstream in(argv[4], std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string body = buffer.str();
    long recordsPerRequest = std::stol(argv[5]);
    long requests = std::stol(argv[6]);
    int connections = std::stoi(argv[7]);
    bool chunked = argc == 9;

    std::atomic<long> next{0};
    std::atomic<long> failed{0};
    std::mutex mutex;
    std::vector<double> latencies;
    std::map<int, long> statuses;
    auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
        threads.emplace_back([&] {
            httplib::Client client(url);
            client.set_keep_alive(true);
            client.set_tcp_nodelay(true); // headers and body are separate writes: no Nagle delay between them
            client.set_read_timeout(60, 0);
            std::vector<double> mine;
            std::map<int, long> myStatuses;
            while (next.fetch_add(1) < requests) {
                auto sent = std::chrono::steady_clock::now();
                auto result = chunked ? client.Post(
                                            path.c_str(),
                                            [&body](size_t offset, httplib::DataSink& sink) {
                                                size_t size = std::min<size_t>(16384, body.size() - offset);
                                                if (size > 0) sink.write(body.data() + offset, size);
                                                if (offset + size == body.size()) sink.done();
                                                return true;
                                            },
                                            contentType.c_str())
                                      : client.Post(path.c_str(), body, contentType.c_str());
                mine.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
                int status = result ? result->status : 0;
                ++myStatuses[status];
                if ((status != 200 && status != 202) || !everyRecordAccepted(result->body)) ++failed;
            }
            std::lock_guard lock(mutex);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
            for (const auto& [status, count] : myStatuses) statuses[status] += count;
        });
    }
    for (auto& thread : threads) thread.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::sort(latencies.begin(), latencies.end());
    auto percentile = [&](double p) {
        if (latencies.empty()) return 0.0;
        return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies.size())))];
    };
    std::string statusText;
    for (const auto& [status, count] : statuses) {
        if (!statusText.empty()) statusText.push_back(',');
        statusText.append(std::to_string(status)).append(":").append(std::to_string(count));
    }
    std::printf("requests=%zu records=%ld seconds=%.3f p50_ms=%.2f p99_ms=%.2f failed=%ld statuses=%s\n", latencies.size(),
                static_cast<long>(latencies.size()) * recordsPerRequest, seconds, percentile(0.50), percentile(0.99),
                failed.load(), statusText.c_str());
    return failed.load() == 0 ? 0 : 1;
}
