#pragma once

#include <pipec/plan.pb.h>

#include <optional>
#include <string>
#include <vector>

namespace pipec::emit {

/// One job compared with the same job in a previous output directory (`pipec compile --against`).
struct JobComparison {
    std::string job;
    std::string status;                  // new | changed | unchanged | removed
    std::string verdict;                 // the state-compatibility verdict (compareState), "new" or "removed"
    std::optional<plan::Job> before;     // absent for new jobs
    std::optional<plan::Job> after;      // absent for removed jobs
    std::string planTextBefore, planTextAfter;  // plan.txt
    std::string specBefore, specAfter;          // spec.yaml, the resolved spec (resources live there)
};

/// The Markdown summary of a compile against a previous output, for `$GITHUB_STEP_SUMMARY` or a pull-request
/// comment (`pipec compile … --against BASE_OUT/ --format markdown`): a table of the jobs, then per job that is not
/// unchanged its state-compatibility verdict with the reason, the output columns, feature keys and features added or
/// removed, resource changes, and the physical plan's diff folded in a <details> block. Deterministic: jobs in name
/// order.
std::string pullRequestSummary(const std::vector<JobComparison>& comparisons);

/// A line diff of two texts (longest common subsequence), each line prefixed with ' ', '-' or '+', with at most
/// `context` unchanged lines around each change; runs of unchanged lines beyond that are elided as `@@ … @@`.
std::string lineDiff(const std::string& before, const std::string& after, size_t context = 3);

} // namespace pipec::emit
