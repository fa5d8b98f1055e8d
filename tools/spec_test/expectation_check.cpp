#include "tools/spec_test/expectation_check.h"

#include "compiler/spec/yaml_reader.h"
#include "runtime/sinks/sink_factory.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <functional>

namespace pipec::spec_test {
namespace {

/// A feature value as written in the test file: a number as is, anything else quoted.
std::string quoteValue(const std::string& text) {
    JsonScalar asYaml{JsonScalar::Kind::String, text};
    return asYaml.json();
}

std::string describeExpectedFeature(const ExpectedFeature& feature) {
    if (feature.absent) return "absent";
    std::vector<std::string> parts;
    if (feature.value) parts.push_back("value: " + (feature.tolerance ? feature.value->value : quoteValue(feature.value->value)));
    if (feature.tolerance) parts.push_back(fmt::format("tolerance: {}", feature.tolerance->value));
    if (feature.ttlSeconds) parts.push_back(fmt::format("ttl: {}", feature.ttlSeconds->value));
    return "{" + fmt::format("{}", fmt::join(parts, ", ")) + "}";
}

std::string describeExpectedRow(const ExpectedRow& row) {
    std::vector<std::string> parts;
    for (const auto& field : row.fields) parts.push_back(field.column.value + ": " + field.value.json());
    return "{" + fmt::format("{}", fmt::join(parts, ", ")) + "}";
}

bool isNumber(const std::string& text, double& value) {
    if (text.empty()) return false;
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size();
}

/// Whether an emitted value matches an expected one: equal JSON values, or two ISO-8601 times of the same instant
/// (`"2026-01-01T00:20:00Z"` matches the output's `"2026-01-01T00:20:00.000Z"`).
bool fieldMatches(const JsonScalar& expected, const JsonScalar& actual) {
    if (expected == actual) return true;
    if (expected.kind != JsonScalar::Kind::String || actual.kind != JsonScalar::Kind::String) return false;
    auto left = runtime::parseIsoTimestamp(expected.text);
    auto right = runtime::parseIsoTimestamp(actual.text);
    return left && right && *left == *right;
}

class Resolver {
public:
    Resolver(TestFile& file, const plan::Job& job, DiagnosticEngine& diagnostics)
        : file_(file), job_(job), reader_(file.path, file.text, diagnostics), diagnostics_(diagnostics) {
        for (const auto& [name, options] : runtime::redisFeatureSinkOptions(job)) sinks_.push_back(name);
        for (const auto& column : job.pipeline().output_columns()) columns_.push_back(column.name());
    }

    bool resolve() {
        size_t before = diagnostics_.errorCount();
        for (auto& test : file_.tests) {
            for (const auto& step : test.steps)
                if (const auto* event = std::get_if<EventStep>(&step); event && event->topic && event->topic->value != job_.pipeline().source().topic()) {
                    auto& d = diagnostics_.error("E0703", event->topic->location, fmt::format("job `{}` does not read topic `{}`", job_.name(), event->topic->value));
                    d.label = fmt::format("its source topic is `{}`", job_.pipeline().source().topic());
                }
            resolveFeatures(test.expect);
            for (const auto& row : test.expect.expectedRows)
                for (const auto& field : row.fields)
                    if (std::find(columns_.begin(), columns_.end(), field.column.value) == columns_.end()) {
                        auto& d = diagnostics_.error("E0705", field.column.location,
                                                     fmt::format("job `{}` has no output column `{}`", job_.name(), field.column.value));
                        std::string suggestion = closestMatch(field.column.value, columns_);
                        d.label = suggestion.empty() ? "not an output column" : fmt::format("did you mean `{}`?", suggestion);
                        d.notes.push_back(fmt::format("output columns: {}", fmt::join(columns_, ", ")));
                    }
        }
        return diagnostics_.errorCount() == before;
    }

private:
    void resolveFeatures(Expectations& expect) {
        if (!expect.features || !expect.featuresNode.IsMap()) return;
        if (sinks_.empty()) {
            auto& d = diagnostics_.error("E0705", *expect.features,
                                         fmt::format("job `{}` writes no features to a Redis sink in environment `{}`", job_.name(), job_.environment()));
            d.label = "nothing to compare these keys with";
            d.help = "set `env:` to an environment whose `pipec.yaml` sinks include the features' sinks, or check `rows` instead";
            return;
        }
        for (auto it = expect.featuresNode.begin(); it != expect.featuresNode.end(); ++it) {
            const std::string name = it->first.Scalar();
            const YAML::Node value = it->second;
            bool sinkName = std::find(sinks_.begin(), sinks_.end(), name) != sinks_.end();
            bool nested = sinkName && value.IsMap() && !value["value"] && !value["ttl"] && !value["tolerance"];
            if (nested) {
                for (auto entry = value.begin(); entry != value.end(); ++entry) addFeature(expect, name, entry->first, entry->second);
            } else if (sinks_.size() == 1) {
                addFeature(expect, sinks_.front(), it->first, value);
            } else {
                auto& d = diagnostics_.error("E0705", reader_.locate(it->first), fmt::format("`{}` is not under a sink's name", name));
                d.label = "which sink's key?";
                d.notes.push_back(fmt::format("job `{}` writes features to several Redis sinks: {}", job_.name(), fmt::join(sinks_, ", ")));
                d.help = fmt::format("nest the keys under their sink: `features: {{{}: {{KEY: …}}}}`", sinks_.front());
            }
        }
    }

    void addFeature(Expectations& expect, const std::string& sink, const YAML::Node& key, const YAML::Node& value) {
        ExpectedFeature feature;
        feature.sink = sink;
        feature.key = {key.Scalar(), reader_.locate(key)};
        if (value.IsScalar() && value.Scalar() == "absent") {
            feature.absent = true;
        } else if (value.IsMap()) {
            if (!reader_.checkMap(value, "an expected feature", {}, {"value", "ttl", "tolerance"}, reader_.locate(value))) return;
            if (const YAML::Node text = value["value"]) {
                if (!text.IsScalar()) {
                    diagnostics_.error("E0102", reader_.locate(text), fmt::format("`value` must be the text the sink writes, found {}", spec::nodeKind(text)))
                        .label = "expected a string or a number";
                    return;
                }
                feature.value = Located<std::string>{text.Scalar(), reader_.locate(text)};
            }
            if (const YAML::Node tolerance = value["tolerance"]) {
                double number = 0, expected = 0;
                if (!tolerance.IsScalar() || !isNumber(tolerance.Scalar(), number) || number < 0) {
                    diagnostics_.error("E0102", reader_.locate(tolerance), "`tolerance` must be a number, 0 or more").label = "expected e.g. `0.001`";
                    return;
                }
                if (!feature.value || !isNumber(feature.value->value, expected)) {
                    auto& d = diagnostics_.error("E0102", feature.value ? feature.value->location : reader_.locate(tolerance),
                                                 "a `tolerance` needs a numeric `value`");
                    d.label = "expected a number";
                    return;
                }
                feature.tolerance = Located<double>{number, reader_.locate(tolerance)};
            }
            feature.ttlSeconds = reader_.integer(value, "ttl");
            if (value["ttl"] && !feature.ttlSeconds) return;
        } else {
            auto& d = diagnostics_.error("E0102", reader_.locate(value.IsNull() ? key : value),
                                         fmt::format("feature key `{}` must be `absent` or `{{value: …, ttl: …}}`", key.Scalar()));
            d.label = "expected `absent` or a map";
            return;
        }
        expect.expectedFeatures.push_back(std::move(feature));
    }

    TestFile& file_;
    const plan::Job& job_;
    spec::YamlReader reader_;
    DiagnosticEngine& diagnostics_;
    std::vector<std::string> sinks_;
    std::vector<std::string> columns_;
};

void checkFeatures(const Expectations& expect, const TestOutcome& outcome, std::vector<ExpectationFailure>& failures) {
    for (const auto& feature : expect.expectedFeatures) {
        const auto sink = outcome.features.find(feature.sink);
        const runtime::RecordingFeatureSink::HeldKey* held = nullptr;
        if (sink != outcome.features.end()) {
            auto found = sink->second.find(feature.key.value);
            if (found != sink->second.end()) held = &found->second;
        }
        ExpectationFailure failure;
        failure.expectation = "features";
        failure.expected = describeExpectedFeature(feature);
        failure.actual = held ? describeHeldKey(*held) : "absent";
        const std::string& key = feature.key.value;
        if (feature.absent) {
            if (!held) continue;
            failure.location = feature.key.location;
            failure.message = fmt::format("`features`: key `{}` is held, expected absent", key);
            failure.label = "expected absent";
        } else if (!held) {
            failure.location = feature.key.location;
            failure.message = fmt::format("`features`: key `{}` is absent", key);
            failure.label = "no such key in the sink";
        } else if (feature.value && feature.tolerance) {
            double expected = 0, actual = 0;
            isNumber(feature.value->value, expected);
            if (isNumber(held->value, actual) && std::fabs(actual - expected) <= feature.tolerance->value) {
                if (!feature.ttlSeconds || feature.ttlSeconds->value == held->ttlSeconds) continue;
            } else {
                failure.location = feature.value->location;
                failure.message = fmt::format("`features`: key `{}` holds {}, expected {} ± {}", key, quoteValue(held->value),
                                              feature.value->value, feature.tolerance->value);
                failure.label = fmt::format("expected {} ± {}", feature.value->value, feature.tolerance->value);
            }
        } else if (feature.value && feature.value->value != held->value) {
            failure.location = feature.value->location;
            failure.message = fmt::format("`features`: key `{}` holds {}, expected {}", key, quoteValue(held->value), quoteValue(feature.value->value));
            failure.label = fmt::format("expected {}", quoteValue(feature.value->value));
        }
        if (failure.location.file.empty()) {
            if (!feature.ttlSeconds || feature.ttlSeconds->value == held->ttlSeconds) continue;
            failure.location = feature.ttlSeconds->location;
            failure.message = fmt::format("`features`: key `{}` has TTL {} s, expected {}", key, held->ttlSeconds, feature.ttlSeconds->value);
            failure.label = fmt::format("expected {}", feature.ttlSeconds->value);
        }
        failures.push_back(std::move(failure));
    }
}

void checkRows(const Expectations& expect, const TestOutcome& outcome, std::vector<ExpectationFailure>& failures) {
    const auto& expected = expect.expectedRows;
    const auto& actual = outcome.rows;
    auto matches = [&](const ExpectedRow& row, const std::vector<JsonScalar>& values) {
        for (const auto& field : row.fields) {
            bool found = false;
            for (size_t c = 0; c < outcome.columns.size() && c < values.size(); ++c)
                if (outcome.columns[c].name() == field.column.value) found = fieldMatches(field.value, values[c]);
            if (!found) return false;
        }
        return true;
    };
    // A maximum matching of listed rows to emitted rows (augmenting paths): each emitted row stands for one listed
    // row, so two identical listed rows need two emitted ones, and a listed subset of columns never takes the only
    // row another listed row could match while a different choice exists.
    std::vector<int> ownerOf(actual.size(), -1);
    std::function<bool(size_t, std::vector<bool>&)> augment = [&](size_t e, std::vector<bool>& seen) {
        for (size_t a = 0; a < actual.size(); ++a) {
            if (seen[a] || !matches(expected[e], actual[a])) continue;
            seen[a] = true;
            if (ownerOf[a] < 0 || augment(static_cast<size_t>(ownerOf[a]), seen)) {
                ownerOf[a] = static_cast<int>(e);
                return true;
            }
        }
        return false;
    };
    std::vector<bool> matched(expected.size(), false);
    for (size_t e = 0; e < expected.size(); ++e) {
        std::vector<bool> seen(actual.size(), false);
        matched[e] = augment(e, seen);
    }
    std::vector<std::string> emitted;
    for (const auto& row : actual) emitted.push_back(describeRow(outcome.columns, row));
    auto listEmitted = [&](ExpectationFailure& failure, const std::vector<size_t>& which) {
        constexpr size_t kShown = 10;
        for (size_t i = 0; i < which.size() && i < kShown; ++i) failure.notes.push_back("  " + emitted[which[i]]);
        if (which.size() > kShown) failure.notes.push_back(fmt::format("  … and {} more", which.size() - kShown));
    };
    std::vector<size_t> allRows;
    for (size_t a = 0; a < actual.size(); ++a) allRows.push_back(a);
    for (size_t e = 0; e < expected.size(); ++e) {
        if (matched[e]) continue;
        ExpectationFailure failure;
        failure.expectation = "rows";
        failure.location = expected[e].location;
        failure.message = "`rows`: no emitted row matches this row";
        failure.label = "not emitted";
        failure.expected = describeExpectedRow(expected[e]);
        failure.actual = actual.empty() ? "no rows emitted" : fmt::format("{} row{} emitted:", actual.size(), actual.size() == 1 ? "" : "s");
        listEmitted(failure, allRows);
        failures.push_back(std::move(failure));
    }
    if (expect.rowsExactly && expect.rowsExactly->value) {
        std::vector<size_t> extra;
        for (size_t a = 0; a < actual.size(); ++a)
            if (ownerOf[a] < 0) extra.push_back(a);
        if (!extra.empty()) {
            ExpectationFailure failure;
            failure.expectation = "rows_exactly";
            failure.location = expect.rowsExactly->location;
            failure.message = fmt::format("`rows_exactly`: {} emitted row{} not listed in `rows`", extra.size(), extra.size() == 1 ? " is" : "s are");
            failure.label = "the emitted rows must be exactly `rows`";
            failure.expected = fmt::format("{} row{}", expected.size(), expected.size() == 1 ? "" : "s");
            failure.actual = fmt::format("{} row{}, not listed:", actual.size(), actual.size() == 1 ? "" : "s");
            listEmitted(failure, extra);
            failures.push_back(std::move(failure));
        }
    }
}

/// `unit` and `units`: the count's noun, singular and plural (`row dropped as late`, `rows dropped as late`).
void checkCount(const char* expectation, const std::optional<Located<int64_t>>& expected, uint64_t actual, const char* unit,
                const char* units, std::vector<ExpectationFailure>& failures, const std::vector<std::string>& notes = {}) {
    if (!expected || static_cast<uint64_t>(expected->value) == actual) return;
    ExpectationFailure failure;
    failure.expectation = expectation;
    failure.location = expected->location;
    failure.message = fmt::format("`{}`: {} {}, expected {}", expectation, actual, actual == 1 ? unit : units, expected->value);
    failure.label = fmt::format("expected {}", expected->value);
    failure.expected = std::to_string(expected->value);
    failure.actual = std::to_string(actual);
    failure.notes = notes;
    failures.push_back(std::move(failure));
}

} // namespace

bool resolveAgainstJob(TestFile& file, const plan::Job& job, DiagnosticEngine& diagnostics) {
    return Resolver(file, job, diagnostics).resolve();
}

std::string describeHeldKey(const runtime::RecordingFeatureSink::HeldKey& key) {
    return fmt::format("{{value: {}, ttl: {}}}", quoteValue(key.value), key.ttlSeconds);
}

std::string describeRow(const std::vector<plan::OutputColumn>& columns, const std::vector<JsonScalar>& row) {
    std::vector<std::string> parts;
    for (size_t c = 0; c < columns.size() && c < row.size(); ++c) parts.push_back(columns[c].name() + ": " + row[c].json());
    return "{" + fmt::format("{}", fmt::join(parts, ", ")) + "}";
}

std::vector<ExpectationFailure> checkExpectations(const TestCase& test, const TestOutcome& outcome) {
    const Expectations& expect = test.expect;
    std::vector<ExpectationFailure> failures;
    if (!expect.features && !expect.rows && !expect.rowsExactly && !expect.late && !expect.deadLetters) {
        ExpectationFailure failure;
        failure.expectation = "expect";
        failure.location = test.hasExpect ? expect.location : test.name.location;
        failure.message = "the test checks nothing";
        failure.label = test.hasExpect ? "an empty `expect` block" : "no `expect` block";
        failure.expected = "`features`, `rows`, `late` or `dead_letters`";
        failure.actual = fmt::format("{} row{} emitted, {} late, {} dead letter{}", outcome.rows.size(), outcome.rows.size() == 1 ? "" : "s",
                                     outcome.late, outcome.deadLetters, outcome.deadLetters == 1 ? "" : "s");
        failure.notes.push_back("`pipec test --bless` writes what the run produced into the test");
        failures.push_back(std::move(failure));
        return failures;
    }
    checkFeatures(expect, outcome, failures);
    checkRows(expect, outcome, failures);
    checkCount("late", expect.late, outcome.late, "row dropped as late", "rows dropped as late", failures);
    std::vector<std::string> rejected;
    for (const auto& event : outcome.rejected)
        rejected.push_back(fmt::format("line {}: {}{}{}{}", event.location.line, event.reason, event.detail.empty() ? "" : ": ", event.detail,
                                       event.deadLettered ? "" : " (counted, not dead-lettered)"));
    checkCount("dead_letters", expect.deadLetters, outcome.deadLetters, "dead letter", "dead letters", failures, rejected);
    return failures;
}

Diagnostic failureDiagnostic(const ExpectationFailure& failure) {
    Diagnostic diagnostic;
    diagnostic.code = "E0701";
    diagnostic.severity = Severity::Error;
    diagnostic.message = failure.message;
    diagnostic.location = failure.location;
    diagnostic.label = failure.label;
    diagnostic.notes.push_back("expected: " + failure.expected);
    diagnostic.notes.push_back("actual:   " + failure.actual);
    for (const auto& note : failure.notes) diagnostic.notes.push_back(note);
    return diagnostic;
}

} // namespace pipec::spec_test
