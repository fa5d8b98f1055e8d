#include "tools/spec_test/spec_test_file.h"

#include "compiler/spec/spec_loader.h"
#include "compiler/spec/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace pipec::spec_test {
namespace {

constexpr std::string_view kTestFileSuffix = ".test.yaml";

bool isTestFile(const fs::path& path) {
    std::string name = path.filename().string();
    for (std::string_view suffix : {kTestFileSuffix, std::string_view(".test.yml")})
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
    return false;
}

/// Reads one test file's YAML into the model, reporting problems where they are written.
class TestFileLoader {
public:
    TestFileLoader(TestFile& file, DiagnosticEngine& diagnostics) : file_(file), reader_(file.path, file.text, diagnostics), diagnostics_(diagnostics) {}

    bool load() {
        // Every error of the file counts, those of its top-level keys too (a misspelled `job:` must not be ignored).
        const size_t errorsBefore = diagnostics_.errorCount();
        try {
            file_.root = YAML::Load(file_.text);
        } catch (const YAML::ParserException& error) {
            auto& d = diagnostics_.error("E0002", reader_.locate(error.mark), fmt::format("invalid YAML: {}", error.msg));
            d.label = "YAML syntax error here";
            return false;
        }
        const YAML::Node& root = file_.root;
        SourceLocation fileLocation{file_.path, 1, 1, 1};
        if (!reader_.checkMap(root, "a test file", {"spec", "tests"}, {"job", "env"}, fileLocation)) return false;
        auto spec = reader_.string(root, "spec");
        if (!spec) return false;
        file_.spec = *spec;
        file_.specPath = (fs::path(file_.path).parent_path() / spec->value).lexically_normal().string();
        std::error_code error;
        if (!fs::is_regular_file(file_.specPath, error)) {
            auto& d = diagnostics_.error("E0001", spec->location, fmt::format("cannot read spec file `{}`", file_.specPath));
            d.label = "no such file (the path is relative to the test file)";
            return false;
        }
        file_.job = reader_.string(root, "job");
        if (auto environment = reader_.string(root, "env")) file_.environment = *environment;
        const YAML::Node tests = root["tests"];
        if (!tests) return false;  // missing: checkMap reported it (E0103); yaml-cpp throws on a missing node's type
        if (!tests.IsSequence()) {
            auto& d = diagnostics_.error("E0102", tests.IsNull() ? reader_.keyLocation(root, "tests") : reader_.locate(tests),
                                         fmt::format("`tests` must be a list, found {}", spec::nodeKind(tests)));
            d.label = "expected a list of tests (`- name: …`)";
            return false;
        }
        for (const auto& test : tests) loadTest(test);
        return diagnostics_.errorCount() == errorsBefore;
    }

private:
    void loadTest(const YAML::Node& node) {
        TestCase test;
        test.testNode = node;
        if (!reader_.checkMap(node, "a test", {"name"}, {"events", "end", "expect"}, reader_.locate(node))) return;
        auto name = reader_.string(node, "name");
        if (!name) return;
        test.name = *name;
        if (const YAML::Node events = node["events"]) {
            if (!events.IsSequence()) {
                auto& d = diagnostics_.error("E0102", events.IsNull() ? reader_.keyLocation(node, "events") : reader_.locate(events),
                                             fmt::format("`events` must be a list, found {}", spec::nodeKind(events)));
                d.label = "expected a list of events and steps";
            } else {
                for (const auto& event : events) loadStep(event, test.steps);
            }
        }
        if (auto end = reader_.string(node, "end")) {
            if (end->value == "hold") test.end = End::Hold;
            else if (end->value != "flush") {
                auto& d = diagnostics_.error("E0109", end->location, fmt::format("`end` must be `flush` or `hold`, found `{}`", end->value));
                d.label = "flush: every open window fires at the end; hold: only what the watermark allows";
            }
        }
        for (auto it = node.begin(); it != node.end(); ++it)
            if (it->first.IsScalar() && it->first.Scalar() == "expect") {
                test.expectKey = it->first;
                test.expectValue = it->second;
                test.hasExpect = true;  // (a default-constructed YAML::Node counts as defined: no test on it)
            }
        if (test.hasExpect) loadExpectations(test.expectValue, reader_.locate(test.expectKey), test.expect);
        file_.tests.push_back(std::move(test));
    }

    void loadStep(const YAML::Node& node, std::vector<Step>& steps) {
        if (!node.IsMap()) {
            auto& d = diagnostics_.error("E0102", reader_.locate(node), fmt::format("an event must be a map, found {}", spec::nodeKind(node)));
            d.label = "expected `{field: value, …}`, `watermark: TIME` or `idle: DURATION`";
            return;
        }
        if (node["watermark"]) {
            if (!reader_.checkMap(node, "a watermark step", {"watermark"}, {}, reader_.locate(node))) return;
            const YAML::Node value = node["watermark"];
            std::optional<int64_t> time;
            if (value.IsScalar()) time = parseTime(value.Scalar());
            if (!time) {
                auto& d = diagnostics_.error("E0704", value.IsNull() ? reader_.keyLocation(node, "watermark") : reader_.locate(value),
                                             fmt::format("invalid watermark `{}`", value.IsScalar() ? value.Scalar() : std::string("")));
                d.label = "expected an ISO-8601 time such as \"2026-01-01T00:20:00Z\", or epoch milliseconds";
                return;
            }
            steps.push_back(WatermarkStep{reader_.locate(node), *time});
            return;
        }
        if (node["idle"]) {
            if (!reader_.checkMap(node, "an idle step", {"idle"}, {}, reader_.locate(node))) return;
            const YAML::Node value = node["idle"];
            spec::Duration duration = spec::parseDuration(value.IsScalar() ? value.Scalar() : std::string());
            if (duration.status == spec::Duration::Status::MissingUnit) {
                auto& d = diagnostics_.error("E0114", reader_.locate(value), fmt::format("duration `{}` has no unit", value.Scalar()));
                d.label = fmt::format("`{}ms` or `{}s`?", duration.number, duration.number);
                return;
            }
            if (duration.status == spec::Duration::Status::OutOfRange) {
                auto& d = diagnostics_.error("E0115", reader_.locate(value), fmt::format("duration `{}` is beyond the event-time range", value.Scalar()));
                d.label = "at most 2^60 ms (about 36 million years)";
                return;
            }
            if (duration.status != spec::Duration::Status::Valid) {
                auto& d = diagnostics_.error("E0108", value.IsNull() ? reader_.keyLocation(node, "idle") : reader_.locate(value),
                                             fmt::format("invalid duration `{}`", value.IsScalar() ? value.Scalar() : std::string("")));
                d.label = "expected a whole number with ms, s, m, h or d, e.g. `1500ms` or `5m`";
                return;
            }
            steps.push_back(IdleStep{reader_.locate(node), duration.milliseconds});
            return;
        }
        EventStep event;
        event.location = reader_.locate(node);
        if (node["_raw"]) {
            event.raw = true;
            for (auto it = node.begin(); it != node.end(); ++it) {
                std::string name = it->first.Scalar();
                if (name == "_raw" || name == "_headers" || name == "_key" || name == "_topic") continue;
                auto& d = diagnostics_.error("E0703", reader_.locate(it->first), fmt::format("`{}` next to `_raw`", name));
                d.label = "a raw record has only `_raw`, `_headers`, `_key` and `_topic`";
                d.help = "write the event either as fields or as `_raw` bytes (base64)";
                return;
            }
            const YAML::Node raw = node["_raw"];
            if (raw.IsScalar() && !(raw.Tag() == "?" && (raw.Scalar() == "null" || raw.Scalar() == "~"))) {
                auto bytes = decodeBase64(raw.Scalar());
                if (!bytes) {
                    auto& d = diagnostics_.error("E0703", reader_.locate(raw), "`_raw` is not base64");
                    d.label = "expected the record's value bytes in base64 (`null` for a tombstone)";
                    return;
                }
                event.value = *bytes;
            } else if (!raw.IsNull() && !raw.IsScalar()) {
                auto& d = diagnostics_.error("E0703", reader_.locate(raw), fmt::format("`_raw` must be a base64 string, found {}", spec::nodeKind(raw)));
                d.label = "expected the record's value bytes in base64 (`null` for a tombstone)";
                return;
            }
            if (const YAML::Node headers = node["_headers"]) {
                if (!headers.IsMap()) {
                    auto& d = diagnostics_.error("E0703", reader_.locate(headers), fmt::format("`_headers` must be a map, found {}", spec::nodeKind(headers)));
                    d.label = "expected `{header-name: value, …}`";
                    return;
                }
                for (auto it = headers.begin(); it != headers.end(); ++it)
                    event.headers.emplace_back(it->first.Scalar(), it->second.IsScalar() ? it->second.Scalar() : std::string());
            }
            if (const YAML::Node key = node["_key"]; key && key.IsScalar()) event.key = key.Scalar();
        } else {
            if (const YAML::Node headers = node["_headers"]) {
                auto& d = diagnostics_.error("E0703", reader_.keyLocation(node, "_headers"), "`_headers` without `_raw`");
                d.label = "headers go with a raw record";
                d.help = "an event written as fields is decoded as `pipec run --input` decodes a JSON line (its time in `_time`)";
                return;
            }
            YAML::Node fields(YAML::NodeType::Map);
            for (auto it = node.begin(); it != node.end(); ++it)
                if (it->first.Scalar() != "_topic") fields[it->first.Scalar()] = it->second;
            event.json = yamlToJson(fields);
        }
        if (const YAML::Node topic = node["_topic"]) event.topic = Located<std::string>{topic.IsScalar() ? topic.Scalar() : "", reader_.locate(topic)};
        steps.push_back(std::move(event));
    }

    void loadExpectations(const YAML::Node& node, const SourceLocation& location, Expectations& expect) {
        expect.location = location;
        if (node.IsNull()) return;
        if (!reader_.checkMap(node, "`expect`", {}, {"features", "rows", "rows_exactly", "late", "dead_letters"}, location)) return;
        if (node["features"]) {
            expect.features = reader_.keyLocation(node, "features");
            expect.featuresNode = node["features"];
            if (!expect.featuresNode.IsMap() && !expect.featuresNode.IsNull())
                reader_.requireMap(expect.featuresNode, "`features`", *expect.features);
        }
        if (const YAML::Node rows = node["rows"]) {
            expect.rows = reader_.keyLocation(node, "rows");
            if (!rows.IsSequence() && !rows.IsNull()) {
                auto& d = diagnostics_.error("E0102", reader_.locate(rows), fmt::format("`rows` must be a list, found {}", spec::nodeKind(rows)));
                d.label = "expected a list of rows (`- {column: value, …}`)";
            } else if (rows.IsSequence()) {
                for (const auto& row : rows) loadRow(row, expect.expectedRows);
            }
        }
        if (const YAML::Node exactly = node["rows_exactly"]) {
            if (exactly.IsScalar() && (exactly.Scalar() == "true" || exactly.Scalar() == "false"))
                expect.rowsExactly = Located<bool>{exactly.Scalar() == "true", reader_.locate(exactly)};
            else
                diagnostics_.error("E0102", reader_.locate(exactly), "`rows_exactly` must be `true` or `false`").label = "expected a boolean";
        }
        expect.late = count(node, "late");
        expect.deadLetters = count(node, "dead_letters");
    }

    std::optional<Located<int64_t>> count(const YAML::Node& node, const char* key) {
        auto value = reader_.integer(node, key);
        if (value && value->value < 0) {
            diagnostics_.error("E0102", value->location, fmt::format("`{}` must be a count (0 or more)", key)).label = "expected 0 or more";
            return std::nullopt;
        }
        return value;
    }

    void loadRow(const YAML::Node& node, std::vector<ExpectedRow>& rows) {
        ExpectedRow row;
        row.location = reader_.locate(node);
        if (!reader_.requireMap(node, "an expected row", row.location)) return;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (!it->second.IsScalar() && !it->second.IsNull()) {
                auto& d = diagnostics_.error("E0102", reader_.locate(it->second),
                                             fmt::format("row field `{}` must be a value, found {}", it->first.Scalar(), spec::nodeKind(it->second)));
                d.label = "output columns hold single values";
                continue;
            }
            JsonScalar value = it->second.IsNull() ? JsonScalar{} : JsonScalar::fromYaml(it->second);
            row.fields.push_back(ExpectedField{{it->first.Scalar(), reader_.locate(it->first)}, value,
                                               it->second.IsNull() ? reader_.locate(it->first) : reader_.locate(it->second)});
        }
        rows.push_back(std::move(row));
    }

    static std::optional<int64_t> parseTime(const std::string& text) {
        if (auto millis = runtime::parseEpochMillis(text)) return millis;
        return runtime::parseIsoTimestamp(text);
    }

    TestFile& file_;
    spec::YamlReader reader_;
    DiagnosticEngine& diagnostics_;
};

} // namespace

std::optional<std::string> decodeBase64(std::string_view text) {
    auto valueOf = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+' || c == '-') return 62;
        if (c == '/' || c == '_') return 63;
        return -1;
    };
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
        int value = valueOf(c);
        if (value < 0) return std::nullopt;
        buffer = (buffer << 6) | static_cast<uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

std::unique_ptr<TestFile> loadTestFile(const std::string& path, SourceManager& sources, DiagnosticEngine& diagnostics) {
    auto file = std::make_unique<TestFile>();
    file->path = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diagnostics.error("E0001", SourceLocation{path, 0, 0, 1}, fmt::format("cannot read test file `{}`", path));
        return nullptr;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return loadTestFileText(path, buffer.str(), sources, diagnostics);
}

std::unique_ptr<TestFile> loadTestFileText(const std::string& path, std::string text, SourceManager& sources, DiagnosticEngine& diagnostics) {
    auto file = std::make_unique<TestFile>();
    file->path = path;
    file->text = std::move(text);
    sources.addFile(path, file->text);
    TestFileLoader loader(*file, diagnostics);
    if (!loader.load()) return nullptr;
    return file;
}

std::vector<std::string> collectTestFiles(const std::vector<std::string>& inputs, std::vector<std::string>& missing) {
    std::vector<std::string> paths;
    for (const auto& input : inputs) {
        std::error_code error;
        if (fs::is_directory(input, error)) {
            std::vector<std::string> found;
            for (auto it = fs::recursive_directory_iterator(input, error); !error && it != fs::recursive_directory_iterator(); it.increment(error))
                if (it->is_regular_file() && isTestFile(it->path())) found.push_back(it->path().string());
            std::sort(found.begin(), found.end());
            paths.insert(paths.end(), found.begin(), found.end());
        } else if (fs::exists(input, error)) {
            paths.push_back(input);
        } else {
            missing.push_back(input);
        }
    }
    return paths;
}

} // namespace pipec::spec_test
