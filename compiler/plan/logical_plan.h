#pragma once

#include "compiler/common/source_location.h"
#include "compiler/plan/bound_expression.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pipec::logical {

/// A column of the source row. Column 0 is always `_time`, the event time.
struct SourceColumn {
    plan::SourceColumn source;   // how the runtime reads it
    bool nullable = true;
    std::vector<std::string> enumNames;  // for enum columns, for value checks
};

/// Reads the Kafka topic and decodes the Protobuf message into source rows.
struct LogicalSource {
    std::string cluster;
    std::string topic;
    std::string messageName;
    std::string format;
    std::string timeField;         // empty: the envelope's creation time
    int timeColumn = 0;            // the column holding the time field, 0 when the envelope time is used
    int64_t watermarkDelayMs = 0;
    std::string keyField;          // the payload field the topic is keyed by (spec `key_field`); empty: unknown
    bool exchangeDisabled = false; // spec `exchange: none`: never repartition, even when the key says so
    std::vector<SourceColumn> columns;
    google::protobuf::FileDescriptorSet descriptors;
    bool pruned = false;           // columns reduced to those the query reads (projection pruning ran)
};

struct WindowSpec {
    plan::WindowKind kind = plan::WINDOW_NONE;
    int64_t sizeMs = 0;      // TUMBLE and HOP: the size; CUMULATE: the max size
    int64_t slideMs = 0;     // HOP: the slide; CUMULATE: the step
    int64_t gapMs = 0;
    bool tableFunction = false;  // written as a window TVF in FROM (`TABLE(TUMBLE(TABLE t, DESCRIPTOR(_time), …))`)
    sql::Span span;
    sql::Span timeSpan;      // the arguments as written, for lints and their suggestions
    sql::Span slideSpan;     // HOP: the slide; CUMULATE: the step
    sql::Span sizeSpan;      // TUMBLE and HOP: the size; CUMULATE: the max size; SESSION: the gap
};

struct AggregateCall {
    plan::AggregateFunction function = plan::AGG_UNKNOWN;
    BoundExpressionPtr argument;   // over the source row; null for COUNT(*)
    bool distinct = false;
    plan::TypeId type = plan::BIGINT;
    bool nullable = true;
    std::string text;              // as written, e.g. `SUM(amount)`
    BoundExpressionPtr filter;     // FILTER (WHERE …) over the source row; null when absent
    std::vector<plan::Literal> parameters;  // constant arguments after the first (LISTAGG's separator)
};

struct OutputColumn {
    std::string name;
    BoundExpressionPtr expression; // over the aggregate row (with a window) or the source row (without)
    bool isKey = false;            // a non-window GROUP BY key: the feature's entity key
    sql::Span span;
};

/// A place where the query reads a source column, for tools that ask which features read a field
/// (`pipec schema check`). Not used by the optimizer or the runtime.
struct ColumnReference {
    std::string column;        // the source column's SQL name, e.g. "store_location.region"
    SourceLocation location;   // where the query names it, in the spec file
    std::string output;        // the output column it is read for; empty: WHERE, GROUP BY, HAVING (every output)
};

/// The bound, typed plan of one source job: source → filter → window aggregate → having → project → sink.
/// Without aggregation the window aggregate and having are absent and the projection reads the source row.
/// The aggregate row is [group keys..., aggregates..., window_start, window_end].
struct LogicalPlan {
    std::string jobName;
    LogicalSource source;
    std::vector<BoundExpressionPtr> filters;   // WHERE, split into conjuncts
    bool aggregated = false;
    WindowSpec window;
    std::vector<BoundExpressionPtr> groupKeys;
    std::vector<std::string> groupKeyNames;
    std::vector<AggregateCall> aggregates;
    BoundExpressionPtr having;
    std::vector<OutputColumn> outputs;
    std::vector<ColumnReference> columnReferences;  // in the order the binder met them

    int windowStartColumn() const { return static_cast<int>(groupKeys.size() + aggregates.size()); }
    int windowEndColumn() const { return windowStartColumn() + 1; }
};

/// A deep copy: optimizer passes rewrite expressions in place, so a plan kept for printing must not share them.
LogicalPlan clonePlan(const LogicalPlan& plan);

/// Deterministic text form of the plan (`pipec explain --stage logical|optimized`).
std::string printPlan(const LogicalPlan& plan);
std::string printAggregate(const AggregateCall& call);

/// Checks the plan's internal invariants (column indexes in range, types consistent); returns the problems found.
/// Used after every optimizer pass: a non-empty result is a compiler bug.
std::vector<std::string> verifyPlan(const LogicalPlan& plan);

} // namespace pipec::logical
