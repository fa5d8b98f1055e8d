#include "compiler/emit/job_artifacts.h"

#include "compiler/lower/lower.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <filesystem>
#include <fstream>

namespace pipec::emit {

namespace fs = std::filesystem;

void ArtifactOptions::addFlags(CLI::App&) {}

std::string serializeJob(const plan::Job& job) {
    std::string bytes;
    {
        google::protobuf::io::StringOutputStream stream(&bytes);
        google::protobuf::io::CodedOutputStream coded(&stream);
        coded.SetSerializationDeterministic(true);
        job.SerializeToCodedStream(&coded);
    }
    return bytes;
}

namespace {

bool writeFile(const fs::path& path, const std::string& content, DiagnosticEngine& diagnostics) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
        diagnostics.error("E0601", SourceLocation{path.string(), 0, 0, 1}, fmt::format("cannot write `{}`", path.string()));
        return false;
    }
    return true;
}

} // namespace

std::vector<std::string> writeArtifacts(const driver::Compilation& compilation, const ArtifactOptions& options,
                                        DiagnosticEngine& diagnostics) {
    std::vector<std::string> written;
    for (const auto& job : compilation.jobs) {
        fs::path directory = fs::path(options.outputDirectory) / job.source.name.value;
        std::error_code error;
        fs::create_directories(directory, error);
        if (error) {
            diagnostics.error("E0601", SourceLocation{directory.string(), 0, 0, 1},
                              fmt::format("cannot create `{}`: {}", directory.string(), error.message()));
            continue;
        }
        plan::Job deployable = driver::buildJob(compilation, job);
        if (!writeFile(directory / "plan.pb", serializeJob(deployable), diagnostics)) continue;
        if (!writeFile(directory / "plan.txt", lower::printPhysical(job.pipeline), diagnostics)) continue;
        written.push_back(fmt::format("{}: {}", job.source.name.value, directory.string()));
    }
    return written;
}

} // namespace pipec::emit
