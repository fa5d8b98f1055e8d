#include "compiler/emit/pull_request_summary.h"

#include "compiler/catalog/column_type.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace pipec::emit {

namespace {

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

/// `a`, `b` and `c`
std::string codeList(const std::vector<std::string>& names) {
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) list += fmt::format("{}`{}`", i == 0 ? "" : i + 1 == names.size() ? " and " : ", ", names[i]);
    return list;
}

/// "added `x`; removed `y`", or empty when both lists are equal as sets.
std::string addedRemoved(const std::set<std::string>& before, const std::set<std::string>& after) {
    std::vector<std::string> added, removed;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(added));
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(removed));
    std::string text;
    if (!added.empty()) text += "added " + codeList(added);
    if (!removed.empty()) text += (text.empty() ? "" : "; ") + std::string("removed ") + codeList(removed);
    return text;
}

std::set<std::string> outputColumns(const std::optional<plan::Job>& job) {
    std::set<std::string> columns;
    if (job)
        for (const auto& column : job->pipeline().output_columns())
            columns.insert(fmt::format("{} {}{}", column.name(), catalog::typeName(column.type()), column.is_key() ? " KEY" : ""));
    return columns;
}

/// Each feature with its entity key, as the feature store addresses it: `feature(key, …)`.
std::set<std::string> featureKeys(const std::optional<plan::Job>& job) {
    std::set<std::string> keys;
    if (!job) return keys;
    std::vector<std::string> keyColumns;
    for (const auto& column : job->pipeline().output_columns())
        if (column.is_key()) keyColumns.push_back(column.name());
    std::string key = fmt::format("{}", fmt::join(keyColumns, ", "));
    for (const auto& sink : job->sinks()) keys.insert(fmt::format("{}({})", sink.feature_name(), key));
    return keys;
}

/// Feature → "column, TTL, sinks", to show what changed about a feature that stayed.
std::map<std::string, std::string> featureSettings(const std::optional<plan::Job>& job) {
    std::map<std::string, std::vector<std::string>> sinks;
    std::map<std::string, std::string> settings;
    if (!job) return settings;
    for (const auto& sink : job->sinks()) {
        sinks[sink.feature_name()].push_back(sink.name());
        settings[sink.feature_name()] = fmt::format("column `{}`, TTL {} s", sink.column(), sink.ttl_seconds());
    }
    for (auto& [feature, text] : settings) {
        std::sort(sinks[feature].begin(), sinks[feature].end());
        text += fmt::format(", sinks {}", codeList(sinks[feature]));
    }
    return settings;
}

struct Resources {
    std::string taskManagers, memory, cpu;
};

Resources resources(const std::string& specYaml) {
    Resources result;
    if (specYaml.empty()) return result;
    try {
        YAML::Node config = YAML::Load(specYaml)["resource_config"];
        if (config) {
            result.taskManagers = config["number_task_manager"].as<std::string>("");
            result.memory = config["memory"].as<std::string>("");
            result.cpu = config["cpu"].as<std::string>("");
        }
    } catch (const YAML::Exception&) {
        // An old spec.yaml that does not parse has no resources to compare; the plan diff still shows the change.
    }
    return result;
}

std::string resourceChanges(const Resources& before, const Resources& after) {
    std::vector<std::string> changes;
    auto compare = [&](const char* name, const std::string& a, const std::string& b) {
        if (a != b) changes.push_back(fmt::format("{} {} → {}", name, a.empty() ? "(none)" : a, b.empty() ? "(none)" : b));
    };
    compare("task managers", before.taskManagers, after.taskManagers);
    compare("memory", before.memory, after.memory);
    compare("cpu", before.cpu, after.cpu);
    return fmt::format("{}", fmt::join(changes, "; "));
}

bool incompatible(const std::string& verdict) { return verdict.rfind("incompatible", 0) == 0; }

std::string verdictText(const JobComparison& comparison) {
    if (comparison.status == "new") return "new job: starts from the beginning of its topic (or its group's committed offsets)";
    if (comparison.status == "removed") return "removed: its deployment is deleted";
    if (incompatible(comparison.verdict)) return comparison.verdict + " — **requires a fresh start / back-fill**";
    return comparison.verdict;
}

std::string markdownCell(std::string text) {
    std::string escaped;
    for (char c : text) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
    return escaped;
}

} // namespace

std::string lineDiff(const std::string& before, const std::string& after, size_t context) {
    std::vector<std::string> a = splitLines(before), b = splitLines(after);
    // lengths[i][j]: the longest common subsequence of a[i..] and b[j..]. Plans are tens of lines.
    std::vector<std::vector<size_t>> lengths(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
    for (size_t i = a.size(); i-- > 0;)
        for (size_t j = b.size(); j-- > 0;)
            lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : std::max(lengths[i + 1][j], lengths[i][j + 1]);
    std::vector<std::string> lines;
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (i < a.size() && j < b.size() && a[i] == b[j]) lines.push_back(" " + a[i++]), ++j;
        // Removals before additions, as diff(1) prints a replaced line.
        else if (i < a.size() && (j == b.size() || lengths[i + 1][j] >= lengths[i][j + 1])) lines.push_back("-" + a[i++]);
        else lines.push_back("+" + b[j++]);
    }
    // Keep `context` unchanged lines around each change.
    std::vector<bool> keep(lines.size(), false);
    for (size_t k = 0; k < lines.size(); ++k) {
        if (lines[k][0] == ' ') continue;
        size_t from = k >= context ? k - context : 0;
        for (size_t m = from; m < std::min(lines.size(), k + context + 1); ++m) keep[m] = true;
    }
    std::string out;
    bool elided = false;
    for (size_t k = 0; k < lines.size(); ++k) {
        if (!keep[k]) {
            if (!elided) out += "@@ … @@\n";
            elided = true;
            continue;
        }
        elided = false;
        out += lines[k] + "\n";
    }
    return out;
}

std::string pullRequestSummary(const std::vector<JobComparison>& input) {
    std::vector<JobComparison> comparisons = input;
    std::sort(comparisons.begin(), comparisons.end(), [](const JobComparison& x, const JobComparison& y) { return x.job < y.job; });
    std::map<std::string, size_t> counts;
    size_t freshStarts = 0;
    for (const auto& comparison : comparisons) {
        ++counts[comparison.status];
        if (comparison.status == "changed" && incompatible(comparison.verdict)) ++freshStarts;
    }
    std::string out = "## pipec compile\n\n";
    out += fmt::format("{} job{}: {} new, {} changed, {} removed, {} unchanged.", comparisons.size(), comparisons.size() == 1 ? "" : "s",
                       counts["new"], counts["changed"], counts["removed"], counts["unchanged"]);
    if (freshStarts) out += fmt::format(" **{} job{} need{} a fresh start / back-fill.**", freshStarts, freshStarts == 1 ? "" : "s", freshStarts == 1 ? "s" : "");
    out += "\n\n| job | change | state |\n|-----|--------|-------|\n";
    for (const auto& comparison : comparisons)
        out += fmt::format("| `{}` | {} | {} |\n", comparison.job, comparison.status, markdownCell(verdictText(comparison)));

    for (const auto& comparison : comparisons) {
        if (comparison.status == "unchanged") continue;
        out += fmt::format("\n### `{}`: {}\n\n", comparison.job, comparison.status);
        out += fmt::format("- **State:** {}\n", verdictText(comparison));
        if (std::string columns = addedRemoved(outputColumns(comparison.before), outputColumns(comparison.after)); !columns.empty())
            out += fmt::format("- **Output columns:** {}\n", columns);
        if (std::string keys = addedRemoved(featureKeys(comparison.before), featureKeys(comparison.after)); !keys.empty())
            out += fmt::format("- **Feature keys:** {}\n", keys);
        if (comparison.before && comparison.after) {
            auto before = featureSettings(comparison.before), after = featureSettings(comparison.after);
            for (const auto& [feature, settings] : after)
                if (auto old = before.find(feature); old != before.end() && old->second != settings)
                    out += fmt::format("- **Feature `{}`:** {} → {}\n", feature, old->second, settings);
        }
        if (comparison.status == "changed")
            if (std::string changes = resourceChanges(resources(comparison.specBefore), resources(comparison.specAfter)); !changes.empty())
                out += fmt::format("- **Resources:** {}\n", changes);
        if (comparison.planTextBefore != comparison.planTextAfter) {
            std::string diff = lineDiff(comparison.planTextBefore, comparison.planTextAfter);
            out += fmt::format("\n<details><summary>Plan diff ({})</summary>\n\n```diff\n{}```\n\n</details>\n",
                               comparison.status == "new" ? "new plan" : comparison.status == "removed" ? "removed plan" : "physical plan", diff);
        }
    }
    return out;
}

} // namespace pipec::emit
