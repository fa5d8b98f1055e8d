#include "compiler/lint/job_lints.h"

#include "compiler/plan/exchange_rule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pipec::lint {

std::string formatDuration(int64_t milliseconds) {
    if (milliseconds == 0) return "0 s";
    static constexpr std::pair<int64_t, const char*> kUnits[] = {
        {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "min"}, {1000, "s"}, {1, "ms"}};
    std::string text;
    int64_t rest = milliseconds;
    for (const auto& [size, name] : kUnits) {
        if (rest < size) continue;
        text += fmt::format("{}{} {}", text.empty() ? "" : " ", rest / size, name);
        rest %= size;
    }
    return text;
}

namespace {

std::string sqlText(const spec::Source& source, sql::Span span) { return source.sql.text.substr(span.offset, span.length); }

SourceLocation sqlLocation(const sql::SqlLocator& locate, sql::Span span) { return locate(span.offset, std::max<size_t>(1, span.length)); }

/// W0403 and W0404: a HOP window whose slide is not shorter than its size. Flink's HOP is HOP(time, slide, size), and
/// writing (time, size, slide) is the usual mistake; it shows as a slide that is a whole multiple of the size. A slide
/// longer than the size in any other ratio leaves gaps between windows (rows in them are in no window).
void lintHop(const spec::Source& source, const logical::WindowSpec& window, const sql::SqlLocator& locate, DiagnosticEngine& diagnostics) {
    if (window.kind != plan::HOP || window.slideMs < window.sizeMs) return;
    std::string slide = formatDuration(window.slideMs), size = formatDuration(window.sizeMs);
    std::string time = sqlText(source, window.timeSpan);
    // A window TVF's suggestions keep its form: HOP(TABLE t, DESCRIPTOR(time), …).
    if (window.tableFunction) time = fmt::format("TABLE {}, {}", source.kafkaSources.front().topic.value, time);
    if (window.slideMs % window.sizeMs == 0) {
        auto& d = diagnostics.warning("W0404", sqlLocation(locate, window.slideSpan),
                                      fmt::format("HOP arguments look swapped: the slide ({}) is not shorter than the size ({})", slide, size));
        d.label = window.tableFunction ? "this is the slide: HOP(TABLE t, DESCRIPTOR(time), slide, size)" : "this is the slide: HOP(time, slide, size)";
        if (window.slideMs == window.sizeMs) {
            d.notes.push_back(fmt::format("windows of {} every {} do not overlap: this is a tumbling window", size, slide));
            d.help = fmt::format("for windows that do not overlap write TUMBLE({}, {}); for overlapping ones, a slide shorter than the size",
                                 time, sqlText(source, window.sizeSpan));
        } else {
            d.notes.push_back(fmt::format("as written, windows of {} start every {}: {} of every {} fall in no window", size, slide,
                                          formatDuration(window.slideMs - window.sizeMs), slide));
            d.help = fmt::format("for windows of {} every {}, write HOP({}, {}, {})", slide, size, time, sqlText(source, window.sizeSpan),
                                 sqlText(source, window.slideSpan));
        }
        return;
    }
    auto& d = diagnostics.warning("W0403", sqlLocation(locate, window.slideSpan),
                                  fmt::format("HOP slide ({}) is longer than its size ({}): {} of every {} fall in no window", slide, size,
                                              formatDuration(window.slideMs - window.sizeMs), slide));
    d.label = "slide longer than the size";
    d.notes.push_back("a row whose time falls between two windows is in no window: it is not aggregated");
    d.help = fmt::format("use a slide of at most the size, or TUMBLE({}, {}) for windows that neither overlap nor leave gaps", time,
                         sqlText(source, window.sizeSpan));
}

/// W0101: with no watermark delay, a record that arrives after a later one of its partition is late. pipec cannot know
/// the topic's partition count when validating (the broker has it), so every explicit 0 on a windowed job is reported.
void lintWatermark(const spec::KafkaSource& kafka, const logical::LogicalPlan& plan, DiagnosticEngine& diagnostics) {
    if (plan.window.kind == plan::WINDOW_NONE || kafka.watermarkDelayMs.value != 0 || !kafka.watermarkDelayMs.location.known()) return;
    auto& d = diagnostics.warning("W0101", kafka.watermarkDelayMs.location, "`watermark_delay` is 0: any record that arrives out of order is late");
    d.label = "no out-of-orderness allowed";
    d.notes.push_back("the job's watermark is the lowest, over its partitions, of each partition's latest event time minus the "
                      "delay; events of several producers, retries and a partition that was idle arrive out of order");
    d.notes.push_back(fmt::format("pipec cannot know how many partitions topic `{}` has when validating: the broker has it",
                                  kafka.topic.value));
    d.help = "set `watermark_delay` to how late events can arrive, e.g. `5s`; late rows are dropped from windows that already fired";
}

/// Splits `createdAtMs`, `created_at_ms`, `event.time_ms` into lower-case words.
std::vector<std::string> nameWords(const std::string& name) {
    std::vector<std::string> words;
    std::string word;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool boundary = c == '_' || c == '.' || c == '-';
        bool camel = std::isupper(static_cast<unsigned char>(c)) && i > 0 && std::islower(static_cast<unsigned char>(name[i - 1]));
        if ((boundary || camel) && !word.empty()) {
            words.push_back(word);
            word.clear();
        }
        if (!boundary) word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!word.empty()) words.push_back(word);
    return words;
}

/// W0201: an int64 time_field is read as epoch milliseconds. A name that says milliseconds is taken at its word; a name
/// that says another unit is probably wrong by a factor of 1000 or more; a name that says nothing is ambiguous.
void lintTimeField(const spec::KafkaSource& kafka, const logical::LogicalPlan& plan, DiagnosticEngine& diagnostics) {
    const auto& source = plan.source;
    if (!kafka.timeField || source.timeColumn <= 0 || static_cast<size_t>(source.timeColumn) >= source.columns.size()) return;
    if (source.columns[static_cast<size_t>(source.timeColumn)].source.type() != plan::BIGINT) return;
    static const std::vector<std::string> kMilliseconds = {"ms", "msec", "msecs", "milli", "millis", "millisecond", "milliseconds"};
    static const std::vector<std::pair<std::string, const char*>> kOtherUnits = {
        {"s", "seconds"},      {"sec", "seconds"},      {"secs", "seconds"},           {"second", "seconds"},
        {"seconds", "seconds"}, {"epoch", "seconds"},   {"unix", "seconds"},           {"us", "microseconds"},
        {"usec", "microseconds"}, {"micros", "microseconds"}, {"microseconds", "microseconds"}, {"ns", "nanoseconds"},
        {"nanos", "nanoseconds"}, {"nanoseconds", "nanoseconds"}};
    std::vector<std::string> words = nameWords(kafka.timeField->value);
    for (const auto& word : words)
        if (std::find(kMilliseconds.begin(), kMilliseconds.end(), word) != kMilliseconds.end()) return;
    const char* otherUnit = nullptr;
    for (const auto& word : words)
        for (const auto& [name, unit] : kOtherUnits)
            if (word == name && !otherUnit) otherUnit = unit;
    const std::string& field = kafka.timeField->value;
    auto& d = otherUnit ? diagnostics.warning("W0201", kafka.timeField->location,
                                              fmt::format("time_field `{}` looks like epoch {}, but an int64 time field is read as epoch milliseconds",
                                                          field, otherUnit))
                        : diagnostics.warning("W0201", kafka.timeField->location,
                                              fmt::format("the unit of time_field `{}` is ambiguous: an int64 time field is read as epoch milliseconds",
                                                          field));
    d.label = otherUnit ? fmt::format("epoch {}?", otherUnit) : std::string("milliseconds?");
    d.notes.push_back("epoch seconds read as milliseconds put every event in January 1970, and its windows far behind the watermark");
    d.help = "use an int64 field of epoch milliseconds whose name says so (e.g. `created_at_ms`), or a google.protobuf.Timestamp field";
}

/// W0501 and W0502: a feature of a windowed job is rewritten once per slide (or window) while its entity has events;
/// it should outlive the time between two updates, and expire at some point.
void lintFeatureTtl(const spec::Feature& feature, const spec::KafkaSource& kafka, const logical::LogicalPlan& plan,
                    DiagnosticEngine& diagnostics) {
    const logical::WindowSpec& window = plan.window;
    if (window.kind == plan::WINDOW_NONE) return;
    int64_t lengthMs = window.kind == plan::SESSION ? window.gapMs : window.sizeMs;
    int64_t suggestedSeconds = (lengthMs + 999) / 1000;
    const auto& ttl = feature.featureTtlSeconds;
    // A missing feature_ttl is error E0103 (the key is required); an invalid one was reported where it is written.
    if (feature.featureTtlInvalid || !ttl.location.known()) return;
    if (ttl.value == 0) {
        auto& d = diagnostics.warning("W0502", ttl.location, fmt::format("feature_ttl 0: the values of feature `{}` never expire", feature.name.value));
        d.label = "never expires";
        d.notes.push_back("an entity that stops receiving events keeps its last windowed value in the feature store forever");
        d.help = fmt::format("set materialize_spec.feature_ttl in seconds, e.g. `feature_ttl: {}` (the {} {})", suggestedSeconds,
                             window.kind == plan::SESSION ? "session gap," : "window size,", formatDuration(lengthMs));
        return;
    }
    if (window.kind == plan::SESSION) return;
    // HOP: a new window ends every slide; CUMULATE: every step (the cycle's windows grow by one step).
    bool sliding = window.kind == plan::HOP || window.kind == plan::CUMULATE;
    int64_t refreshMs = sliding ? window.slideMs : window.sizeMs;
    const char* interval = window.kind == plan::CUMULATE ? "step" : "slide";
    if (ttl.value * 1000 >= refreshMs) return;
    int64_t neededSeconds = (refreshMs + kafka.watermarkDelayMs.value + 999) / 1000;
    auto& d = diagnostics.warning("W0501", ttl.location,
                                  fmt::format("feature_ttl ({}) is shorter than the window's {} ({}): feature `{}` expires between updates",
                                              formatDuration(ttl.value * 1000), interval, formatDuration(refreshMs), feature.name.value));
    d.label = fmt::format("expires {} after its last update", formatDuration(ttl.value * 1000));
    d.notes.push_back(fmt::format("each key is rewritten once every {}, when the watermark passes the end of a window", formatDuration(refreshMs)));
    d.help = fmt::format("set `feature_ttl: {}` or more (the {} plus the watermark delay, in seconds)", neededSeconds, interval);
}

/// W0405: with `exchange: none` the job aggregates each partition on its own, which is right only when the topic is
/// keyed by a GROUP BY key (exchange_rule.h). With an exchange there is nothing to warn about: `pipec validate` notes
/// why the exchange is there (N0406).
void lintPartitionKey(const spec::KafkaSource& kafka, const logical::LogicalPlan& plan, DiagnosticEngine& diagnostics) {
    logical::ExchangeDecision decision = logical::decideExchange(plan);
    if (!decision.windowed || !decision.disabled || decision.keyedByGroupKey) return;
    auto& d = diagnostics.warning("W0405", kafka.exchange.location,
                                  fmt::format("`exchange: none`, but topic `{}` is not known to be keyed by a GROUP BY key", kafka.topic.value));
    d.label = "rows are not repartitioned by the GROUP BY key";
    d.notes.push_back(decision.reason);
    d.notes.push_back("each partition is aggregated on its own: a group whose rows are in several partitions gets partial "
                      "values that overwrite one another in the feature store");
    std::string bareKey;  // the first GROUP BY key that is a bare column: what `key_field` could name
    for (const auto& key : plan.groupKeys)
        if (bareKey.empty() && key->kind == logical::BoundKind::Column && key->column > 0)
            bareKey = plan.source.columns.at(static_cast<size_t>(key->column)).source.name();
    if (plan.groupKeys.empty())
        d.help = "remove `exchange: none`: pipec then sends every row of a window to one task through a repartition topic";
    else if (bareKey.empty())
        d.help = "no GROUP BY key is a bare column that a topic could be keyed by: remove `exchange: none` so that pipec "
                 "repartitions by the GROUP BY key";
    else
        d.help = fmt::format("if the topic is keyed by `{}`, declare `key_field: {}`; otherwise remove `exchange: none` so that "
                             "pipec repartitions by the GROUP BY key",
                             bareKey, bareKey);
}

} // namespace

void lintJob(const spec::Source& source, const logical::LogicalPlan& plan, const std::vector<const spec::Feature*>& features,
             const sql::SqlLocator& locate, DiagnosticEngine& diagnostics) {
    const spec::KafkaSource& kafka = source.kafkaSources.front();
    lintWatermark(kafka, plan, diagnostics);
    lintTimeField(kafka, plan, diagnostics);
    lintHop(source, plan.window, locate, diagnostics);
    lintPartitionKey(kafka, plan, diagnostics);
    for (const spec::Feature* feature : features) lintFeatureTtl(*feature, kafka, plan, diagnostics);
}

} // namespace pipec::lint
