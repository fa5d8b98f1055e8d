#pragma once

#include "compiler/plan/logical_plan.h"

#include <string>

namespace pipec::logical {

/// Whether a job's rows must be repartitioned by the GROUP BY key before the window aggregate (plan.proto `Exchange`).
///
/// Each partition of the source topic is aggregated by its own task, so a windowed job is right without an exchange
/// only when all rows of one GROUP BY key are in one partition. pipec knows that only from the spec: `key_field`
/// names the payload field the topic is keyed by, and when one of the GROUP BY keys is exactly that field, read as
/// a bare column, equal GROUP BY keys imply equal `key_field` values, hence one partition. An expression of the
/// field (`GROUP BY store_id % 10`) does not: `store_id` 1 and 11 share a group but not necessarily a partition.
/// A query without a non-window GROUP BY key (one group per window) always needs one.
struct ExchangeDecision {
    bool windowed = false;         // the job aggregates in a group window (stateless jobs never need an exchange)
    bool keyedByGroupKey = false;  // key_field is declared and is a bare GROUP BY key: every group is in one partition
    bool disabled = false;         // `exchange: none`
    bool needed = false;           // windowed, not keyed by a GROUP BY key, and not disabled
    /// Why the topic's partitioning does not keep each group in one partition (windowed and not keyed), one line,
    /// e.g. "key_field order_id is not a GROUP BY key (GROUP BY store_id)".
    std::string reason;
    std::string keys;              // the GROUP BY keys as written, comma-separated
};

ExchangeDecision decideExchange(const LogicalPlan& plan);

} // namespace pipec::logical
