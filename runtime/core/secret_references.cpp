#include "runtime/core/secret_references.h"

#include "runtime/core/user_error.h"

#include <fmt/format.h>

#include <cctype>

namespace pipec::runtime {

std::string expandReferences(const std::string& value, const std::string& what, const EnvironmentLookup& lookup) {
    std::string out;
    size_t position = 0;
    while (position < value.size()) {
        size_t start = value.find("${", position);
        size_t end = start == std::string::npos ? std::string::npos : value.find('}', start + 2);
        if (end == std::string::npos) break;
        std::string name = value.substr(start + 2, end - start - 2);
        bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
        for (unsigned char c : name) valid = valid && (std::isalnum(c) || c == '_');
        out += value.substr(position, start - position);
        if (!valid) {
            out += "${";  // not a reference (the compiler reads the same grammar): kept as written
            position = start + 2;
            continue;
        }
        const char* variable = lookup(name.c_str());
        if (variable == nullptr)
            throw UserError(fmt::format("{} names the environment variable `{}`, which is not set (on Kubernetes it comes from "
                                        "the Secret the manifest mounts; docs/deployment.md, \"Secrets\")",
                                        what, name));
        out += variable;
        position = end + 1;
    }
    out += value.substr(position);
    return out;
}

void expandSecretReferences(plan::Job& job, const EnvironmentLookup& lookup) {
    for (auto& [key, value] : *job.mutable_cluster_properties())
        if (value.find("${") != std::string::npos) value = expandReferences(value, fmt::format("cluster setting `{}`", key), lookup);
    for (auto& sink : *job.mutable_sinks())
        for (auto& [key, value] : *sink.mutable_properties())
            if (value.find("${") != std::string::npos)
                value = expandReferences(value, fmt::format("setting `{}` of sink `{}`", key, sink.name()), lookup);
}

} // namespace pipec::runtime
