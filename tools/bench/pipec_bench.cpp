// pipec's engine benchmark (not a test): Protobuf events generated in memory, decoded and aggregated by the native
// pipeline exactly as `pipec run` does (RecordDecoder → PipelineExecutor), for the seed feature query
// HOP(20 s, 20 min) SUM + COUNT per store, and the same with TUMBLE(20 s). Reports events/s per core (CPU time of
// the measured loop), the HOP/TUMBLE ratio and peak memory (each case runs in its own child process), then runs the
// DuckDB batch baseline from shared/bench/duckdb-hop in the same run when Node is available.
//   pipec_bench [--events N] [--keys K] [--no-duckdb]
#include "compiler/driver/compilation.h"
#include "runtime/operators/pipeline_executor.h"
#include "runtime/formats/record_decoder.h"

#include <fmt/format.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

using namespace pipec;

namespace {

struct Options {
    size_t events = 10'000'000;
    size_t keys = 10'000;
    bool duckdb = true;
};

/// Counts rows and keeps the last one, so the compiler cannot drop the work.
class CountingSink : public runtime::RowSink {
public:
    void open(const std::vector<plan::OutputColumn>&) override {}
    void write(const runtime::Row& row) override {
        ++rows;
        checksum += static_cast<uint64_t>(row.back().i);
    }
    void flush() override {}
    uint64_t rows = 0;
    uint64_t checksum = 0;
};

void putVarint(std::string& out, uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

/// A StoreTimelineEvent as services send it: ids, type, flags, a creation Timestamp and amounts (~50 bytes).
std::string encodeEvent(uint64_t storeId, bool confirmed, int64_t timeMs, uint64_t sequence) {
    std::string out;
    putVarint(out, (1 << 3) | 0);
    putVarint(out, storeId);
    std::string order = fmt::format("o-{:010}", sequence);
    putVarint(out, (2 << 3) | 2);
    putVarint(out, order.size());
    out += order;
    putVarint(out, (3 << 3) | 0);
    putVarint(out, 1 + sequence % 5);
    putVarint(out, (4 << 3) | 0);
    putVarint(out, confirmed ? 1 : 0);
    std::string timestamp;
    putVarint(timestamp, (1 << 3) | 0);
    putVarint(timestamp, static_cast<uint64_t>(timeMs / 1000));
    putVarint(timestamp, (2 << 3) | 0);
    putVarint(timestamp, static_cast<uint64_t>(timeMs % 1000) * 1'000'000);
    putVarint(out, (5 << 3) | 2);
    putVarint(out, timestamp.size());
    out += timestamp;
    putVarint(out, (8 << 3) | 0);
    putVarint(out, 1 + sequence % 7);
    putVarint(out, (9 << 3) | 0);
    putVarint(out, 500 + sequence % 9000);
    return out;
}

plan::Pipeline compilePipeline(const std::string& window) {
    std::string directory = std::string(PIPEC_SOURCE_DIR) + "/tools/bench/specs";
    std::string path = fmt::format("{}/seed_{}.yaml", directory, window);
    driver::Compilation compilation;
    driver::CompileOptions options;
    driver::compile({path}, options, compilation);
    if (compilation.diagnostics.hasErrors() || compilation.jobs.size() != 1) {
        std::cerr << renderAll(compilation.diagnostics.all(), compilation.sources, DiagnosticFormat::Text);
        throw std::runtime_error("benchmark spec does not compile: " + path);
    }
    return compilation.jobs.front().pipeline;
}

double cpuSeconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct Result {
    double wallSeconds = 0;
    double cpuSeconds = 0;
    uint64_t rows = 0;
    long peakKb = 0;
    long baselineKb = 0;
};

/// Runs one case in a child process so its peak memory is its own.
Result runCase(const std::string& window, const Options& options) {
    int pipeFds[2];
    if (pipe(pipeFds) != 0) throw std::runtime_error("pipe failed");
    pid_t child = fork();
    if (child == 0) {
        close(pipeFds[0]);
        Result result;
        plan::Pipeline pipeline = compilePipeline(window);
        // Generate the stream first (not measured): in event-time order over two hours, uniform random stores.
        std::mt19937_64 random(42);
        std::vector<std::string> payloads;
        std::vector<int64_t> times;
        payloads.reserve(options.events);
        times.reserve(options.events);
        const int64_t start = 1'767'225'600'000, span = 2 * 3600 * 1000;
        for (size_t i = 0; i < options.events; ++i) {
            int64_t time = start + static_cast<int64_t>(static_cast<double>(span) * static_cast<double>(i) / static_cast<double>(options.events));
            payloads.push_back(encodeEvent(random() % options.keys, random() % 2 == 0, time, i));
            times.push_back(time);
        }
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        result.baselineKb = usage.ru_maxrss;

        CountingSink sink;
        runtime::RecordDecoder decoder(pipeline.source());
        runtime::PipelineExecutor executor(pipeline, sink);
        runtime::Row row;
        std::string error;
        auto wallStart = std::chrono::steady_clock::now();
        double cpuStart = cpuSeconds();
        for (size_t i = 0; i < options.events; ++i) {
            if (decoder.decodeProtobuf(payloads[i], times[i], row, &error) != runtime::RecordDecoder::Status::Ok) std::abort();
            executor.process(row);
        }
        executor.finish();
        result.cpuSeconds = cpuSeconds() - cpuStart;
        result.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
        result.rows = sink.rows;
        getrusage(RUSAGE_SELF, &usage);
        result.peakKb = usage.ru_maxrss;
        if (write(pipeFds[1], &result, sizeof result) != sizeof result) _exit(2);
        _exit(0);
    }
    close(pipeFds[1]);
    Result result;
    ssize_t got = read(pipeFds[0], &result, sizeof result);
    close(pipeFds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (got != sizeof result || !WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("benchmark case failed: " + window);
    return result;
}

void runDuckDb(const Options& options) {
    std::string shared = std::string(PIPEC_SOURCE_DIR) + "/../shared/bench/duckdb-hop";
    if (!std::filesystem::exists(shared + "/hop_bench.mjs")) {
        std::cout << "duckdb baseline: skipped (" << shared << " not found)\n";
        return;
    }
    if (std::system("command -v node > /dev/null 2>&1 && command -v npm > /dev/null 2>&1") != 0) {
        std::cout << "duckdb baseline: skipped (node/npm not installed)\n";
        return;
    }
    // The shared folder is read-only: install the DuckDB package in a scratch copy.
    std::string scratch = "/tmp/pipec-duckdb-hop";
    std::string command = fmt::format(
        "mkdir -p {0} && cp {1}/hop_bench.mjs {1}/package.json {0}/ && cd {0} && "
        "( [ -d node_modules/@duckdb/node-api ] || npm install --no-save --silent @duckdb/node-api > /dev/null 2>&1 ) && "
        "STORES={2} node hop_bench.mjs {3} 3 1 b_slices_window_dense 2>&1",
        scratch, shared, options.keys, options.events);
    std::cout << "duckdb baseline (1 thread, same N and keys; exact HOP results):\n";
    std::fflush(stdout);
    if (std::system(command.c_str()) != 0) std::cout << "duckdb baseline: failed to run (see above)\n";
}

} // namespace

int main(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string argument = argv[i];
        if (argument == "--events" && i + 1 < argc) options.events = std::stoull(argv[++i]);
        else if (argument == "--keys" && i + 1 < argc) options.keys = std::stoull(argv[++i]);
        else if (argument == "--no-duckdb") options.duckdb = false;
        else {
            std::cerr << "usage: pipec_bench [--events N] [--keys K] [--no-duckdb]\n";
            return 2;
        }
    }
    std::cout << fmt::format("pipec engine benchmark: {} events, {} keys, 2 h of event time in order; decode + aggregate\n",
                             options.events, options.keys);
    Result hop = runCase("hop", options);
    Result tumble = runCase("tumble", options);
    auto report = [&](const char* name, const Result& r) {
        double perCore = static_cast<double>(options.events) / r.cpuSeconds;
        std::cout << fmt::format("{:<28} {:>8.2f} M events/s/core  ({:.2f} s cpu, {:.2f} s wall, {} rows out, peak {:.0f} MiB, "
                                 "state+engine {:.0f} MiB above the generated input)\n",
                                 name, perCore / 1e6, r.cpuSeconds, r.wallSeconds, r.rows, static_cast<double>(r.peakKb) / 1024,
                                 static_cast<double>(r.peakKb - r.baselineKb) / 1024);
        return perCore;
    };
    double hopRate = report("HOP(20 s, 20 min) SUM+COUNT", hop);
    double tumbleRate = report("TUMBLE(20 s) SUM+COUNT", tumble);
    std::cout << fmt::format("HOP/TUMBLE throughput ratio: {:.2f}\n", hopRate / tumbleRate);
    if (options.duckdb) runDuckDb(options);
    return 0;
}
