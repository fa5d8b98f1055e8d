#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/spec/spec_model.h"
#include "runtime/sources/envelope.h"
#include "tools/spec_test/json_scalar.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pipec::spec_test {

using spec::Located;

/// An event of a test, in arrival order. Written as fields in the Protobuf JSON mapping (with an optional `_time`),
/// it is decoded as `pipec run --input` decodes a JSON line; written as `_raw` (base64) with `_headers`, as the Kafka
/// job decodes a record with its envelope headers.
struct EventStep {
    SourceLocation location;
    bool raw = false;
    std::string json;                 // !raw: the event as one JSON object, `_time` included (a replay file's line)
    std::optional<std::string> value; // raw: the record's value bytes; none: a NULL value (a tombstone)
    runtime::HeaderList headers;      // raw: the record's headers
    std::string key;                  // raw: the record's key (`_key`)
    std::optional<Located<std::string>> topic;  // `_topic`: one of the job's source topics
};

/// `watermark: T`: the watermark moves to T, as if a later event had arrived.
struct WatermarkStep {
    SourceLocation location;
    int64_t watermarkMs = 0;
};

/// `idle: D`: the wall clock moves D on, with no events.
struct IdleStep {
    SourceLocation location;
    int64_t durationMs = 0;
};

using Step = std::variant<EventStep, WatermarkStep, IdleStep>;

/// One expected feature key: `KEY: absent` or `KEY: {value, ttl, tolerance}`.
struct ExpectedFeature {
    std::string sink;  // filled when the expectations are resolved against the job's sinks
    Located<std::string> key;
    bool absent = false;
    std::optional<Located<std::string>> value;  // the text the sink writes
    std::optional<Located<double>> tolerance;   // compare `value` as a number within this
    std::optional<Located<int64_t>> ttlSeconds;
};

/// One field of an expected row: an output column and its value as JSON.
struct ExpectedField {
    Located<std::string> column;
    JsonScalar value;
    SourceLocation valueLocation;
};

struct ExpectedRow {
    SourceLocation location;
    std::vector<ExpectedField> fields;
};

/// The `expect:` block of a test. Every expectation kind is optional; an empty block checks nothing.
struct Expectations {
    SourceLocation location;  // the `expect` key
    std::optional<SourceLocation> features;  // the `features` key, when present
    YAML::Node featuresNode;                  // resolved against the job's sinks once the spec compiled
    std::vector<ExpectedFeature> expectedFeatures;
    std::optional<SourceLocation> rows;      // the `rows` key, when present
    std::vector<ExpectedRow> expectedRows;
    std::optional<Located<bool>> rowsExactly;
    std::optional<Located<int64_t>> late;
    std::optional<Located<int64_t>> deadLetters;
};

enum class End { Flush, Hold };

struct TestCase {
    Located<std::string> name;
    std::vector<Step> steps;
    End end = End::Flush;
    Expectations expect;
    bool hasExpect = false;
    YAML::Node expectKey;  // for --bless: where the `expect` block starts in the text
    YAML::Node expectValue;
    YAML::Node testNode;   // the test's map, for --bless of a test without `expect`
};

/// A `NAME.test.yaml` file (../shared/SPEC-TESTS.md).
struct TestFile {
    std::string path;
    std::string text;
    Located<std::string> spec;  // as written
    std::string specPath;       // resolved relative to the test file
    std::optional<Located<std::string>> job;
    Located<std::string> environment{"local", {}};
    std::vector<TestCase> tests;
    YAML::Node root;
};

/// Reads a test file; problems are reported to `diagnostics` (codes E00xx, E01xx for YAML structure, E07xx for
/// test contents) with their place in the file. Returns nothing when the file cannot be used at all.
std::unique_ptr<TestFile> loadTestFile(const std::string& path, SourceManager& sources, DiagnosticEngine& diagnostics);

/// The same for a test file's text, as if read from `path`.
std::unique_ptr<TestFile> loadTestFileText(const std::string& path, std::string text, SourceManager& sources, DiagnosticEngine& diagnostics);

/// Expands files and folders (every `*.test.yaml` below them, recursively, sorted) into test file paths. A path that
/// does not exist is returned in `missing`.
std::vector<std::string> collectTestFiles(const std::vector<std::string>& inputs, std::vector<std::string>& missing);

/// Decodes standard base64 (padding optional); nothing when `text` is not base64.
std::optional<std::string> decodeBase64(std::string_view text);

} // namespace pipec::spec_test
