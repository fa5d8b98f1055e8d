#include "compiler/catalog/catalog.h"

#include "compiler/catalog/proto_error_collector.h"

#include <fmt/format.h>
#include <google/protobuf/compiler/importer.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace pipec::catalog {

namespace fs = std::filesystem;
using google::protobuf::Descriptor;
using google::protobuf::FileDescriptor;

namespace {

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The suggestion for an unknown message name: the closest full name, else a message whose simple name matches
/// (the usual mistake is a missing or wrong package).
std::string suggestMessage(std::string_view wanted, const std::vector<std::string>& names) {
    std::string suggestion = closestMatch(wanted, names);
    if (!suggestion.empty()) return suggestion;
    size_t dot = wanted.rfind('.');
    std::string_view simpleName = dot == std::string_view::npos ? wanted : wanted.substr(dot + 1);
    std::vector<std::string> sameSimpleName;
    std::vector<std::string> simpleNames;
    for (const auto& name : names) {
        std::string_view candidate = std::string_view(name).substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
        if (candidate == simpleName) sameSimpleName.push_back(name);
        simpleNames.emplace_back(candidate);
    }
    if (sameSimpleName.size() == 1) return sameSimpleName.front();
    if (!sameSimpleName.empty()) return "";  // ambiguous: several packages define it
    std::string closestSimple = closestMatch(simpleName, simpleNames);
    if (closestSimple.empty()) return "";
    for (const auto& name : names)
        if (name.size() > closestSimple.size() && name.compare(name.size() - closestSimple.size(), closestSimple.size(), closestSimple) == 0 &&
            name[name.size() - closestSimple.size() - 1] == '.')
            return name;
    return closestSimple;
}

} // namespace

struct Catalog::State {
    // Declaration order matters: the importer refers to the source tree and the error collector, so it goes last
    // and is destroyed first.
    google::protobuf::compiler::DiskSourceTree sourceTree;
    std::unique_ptr<ProtoErrorCollector> errors;
    std::unique_ptr<google::protobuf::compiler::Importer> importer;
    std::vector<const FileDescriptor*> files;
    std::map<std::string, std::string> diskPaths;  // import path → file on disk
};

Catalog::Catalog(std::unique_ptr<State> state) : state_(std::move(state)) {}
Catalog::~Catalog() = default;

std::unique_ptr<Catalog> Catalog::load(const std::vector<std::string>& protoPaths, SourceManager& sources, DiagnosticEngine& diagnostics) {
    auto state = std::make_unique<State>();
    state->errors = std::make_unique<ProtoErrorCollector>(diagnostics, sources);
    // The well-known types (timestamp.proto, wrappers.proto) come from the protobuf installation; mapped first so
    // a stray copy under a proto path cannot shadow them.
    state->sourceTree.MapPath("google/protobuf", std::string(PIPEC_PROTOBUF_INCLUDE_DIR) + "/google/protobuf");
    std::vector<std::string> virtualPaths;
    std::set<std::string> seenVirtualPaths;
    for (const auto& root : protoPaths) {
        std::error_code error;
        if (!fs::is_directory(root, error)) {
            diagnostics.error("E0001", SourceLocation{root, 0, 0, 1}, fmt::format("proto path `{}` is not a directory", root));
            continue;
        }
        state->sourceTree.MapPath("", root);
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(root, error); !error && it != fs::recursive_directory_iterator(); it.increment(error))
            if (it->is_regular_file() && it->path().extension() == ".proto") found.push_back(it->path());
        // Sorted so diagnostics and the catalog come out the same on every file system.
        std::sort(found.begin(), found.end());
        for (const auto& path : found) {
            std::string virtualPath = fs::relative(path, root).generic_string();
            // An earlier proto path already provides this import path; the source tree resolves imports to it too.
            if (!seenVirtualPaths.insert(virtualPath).second) continue;
            state->errors->mapFile(virtualPath, path.string());
            state->diskPaths.emplace(virtualPath, path.string());
            virtualPaths.push_back(virtualPath);
            sources.addFile(path.string(), readFile(path));
        }
    }
    state->importer = std::make_unique<google::protobuf::compiler::Importer>(&state->sourceTree, state->errors.get());
    for (const auto& virtualPath : virtualPaths)
        if (const FileDescriptor* file = state->importer->Import(virtualPath)) state->files.push_back(file);
    state->errors->detach();
    return std::unique_ptr<Catalog>(new Catalog(std::move(state)));
}

const Descriptor* Catalog::findMessage(std::string_view fullName) const {
    // A leading dot is the fully qualified spelling inside .proto files; accept it here too.
    if (!fullName.empty() && fullName.front() == '.') fullName.remove_prefix(1);
    return state_->importer->pool()->FindMessageTypeByName(std::string(fullName));
}

const std::vector<const FileDescriptor*>& Catalog::files() const { return state_->files; }

std::string Catalog::diskPath(const FileDescriptor* file) const {
    auto it = state_->diskPaths.find(file->name());
    return it == state_->diskPaths.end() ? file->name() : it->second;
}

std::vector<std::string> Catalog::messageNames() const {
    std::vector<std::string> names;
    std::function<void(const Descriptor*)> add = [&](const Descriptor* message) {
        if (message->options().map_entry()) return;
        names.push_back(message->full_name());
        for (int i = 0; i < message->nested_type_count(); ++i) add(message->nested_type(i));
    };
    for (const FileDescriptor* file : state_->files)
        for (int i = 0; i < file->message_type_count(); ++i) add(file->message_type(i));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

std::optional<MessageSchema> Catalog::resolve(std::string_view protoClass, const SourceLocation& location, DiagnosticEngine& diagnostics) const {
    if (const Descriptor* descriptor = findMessage(protoClass)) return describeMessage(descriptor);
    auto& diagnostic = diagnostics.error("E0202", location, fmt::format("unknown Protobuf message `{}`", protoClass));
    std::string suggestion = suggestMessage(protoClass, messageNames());
    diagnostic.label = suggestion.empty() ? fmt::format("not found in the {} loaded .proto files", state_->files.size())
                                          : fmt::format("did you mean `{}`?", suggestion);
    diagnostic.help = "proto_class is the fully qualified message name (package + message); .proto files load from schemas/ and --proto-path";
    return std::nullopt;
}

} // namespace pipec::catalog
