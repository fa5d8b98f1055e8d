#include "tests/fuzz/fuzz_inputs.h"

#include "compiler/emit/job_artifacts.h"

#include <google/protobuf/util/message_differencer.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace pipec::fuzz {

namespace fs = std::filesystem;

std::string sourcePath(std::string_view relative) { return (fs::path(PIPEC_SOURCE_DIR) / relative).string(); }

driver::CompileOptions exampleCompileOptions() {
    driver::CompileOptions options;
    options.protoPaths = {sourcePath("schemas")};
    options.searchNearestSchemas = false;
    options.environmentName = "";  // every environment of pipec.yaml, as `pipec validate` checks them
    options.environmentFile = sourcePath("pipec.yaml");
    return options;
}

const std::vector<plan::Job>& exampleJobs() {
    static const std::vector<plan::Job> jobs = [] {
        driver::CompileOptions options = exampleCompileOptions();
        options.environmentName = "local";
        driver::Compilation compilation;
        driver::compile({sourcePath("examples")}, options, compilation);
        if (compilation.diagnostics.hasErrors() || compilation.jobs.empty()) {
            std::fputs(renderAll(compilation.diagnostics.all(), compilation.sources, DiagnosticFormat::Text).c_str(), stderr);
            std::fputs("fuzz: the examples do not compile\n", stderr);
            std::abort();
        }
        std::vector<plan::Job> result;
        for (const auto& job : compilation.jobs) result.push_back(driver::buildJob(compilation, job));
        return result;
    }();
    return jobs;
}

namespace {

/// The process's scratch directory, removed when the process exits normally (a crashing input is kept by libFuzzer
/// itself, as crash-<sha1>).
class ScratchDirectory {
public:
    ScratchDirectory() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/pipec-fuzz-XXXXXX";
        if (!mkdtemp(pattern.data())) {
            std::perror("fuzz: mkdtemp");
            std::abort();
        }
        path_ = pattern;
    }
    ~ScratchDirectory() {
        std::error_code error;
        fs::remove_all(path_, error);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

} // namespace

std::string scratchPath(std::string_view name) {
    static ScratchDirectory directory;
    return (directory.path() / name).string();
}

std::string writeScratchFile(std::string_view name, std::string_view data) {
    const std::string path = scratchPath(name);
    writeFile(path, data);
    return path;
}

void writeFile(const std::string& path, std::string_view data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
}

void renderEveryFormat(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources) {
    for (DiagnosticFormat format : {DiagnosticFormat::Text, DiagnosticFormat::GitHub, DiagnosticFormat::Json})
        (void)renderAll(diagnostics, sources, format, format == DiagnosticFormat::Text);
}

void checkJobReadsBack(const plan::Job& job) {
    const std::string bytes = emit::serializeJob(job);  // plan.pb's bytes
    plan::Job readBack;
    if (!readBack.ParseFromString(bytes) ||
        !google::protobuf::util::MessageDifferencer::Equals(job, readBack)) {
        std::fprintf(stderr, "fuzz: the compiled plan of job `%s` does not read back\n", job.name().c_str());
        std::abort();
    }
}

} // namespace pipec::fuzz
