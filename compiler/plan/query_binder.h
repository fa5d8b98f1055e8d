#pragma once

// The binder's internals, shared by its files, one per concept: query_binder.cpp (the query and its clauses),
// expression_binder.cpp (operators, literals, columns, CASE, CAST, predicates), function_binder.cpp (scalar functions
// through the function catalog), aggregate_binder.cpp and group_window_binder.cpp. Only these files include it.

#include "compiler/plan/binder.h"
#include "compiler/plan/bound_expression.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pipec::logical::binding {

using sql::Expression;
using sql::ExpressionKind;
using sql::LiteralKind;

std::string upper(std::string text);
std::string joinName(const std::vector<std::string>& parts);

/// Where an expression is bound: over the source row (WHERE, GROUP BY, aggregate arguments, stateless SELECT),
/// or over the aggregate row (SELECT and HAVING of an aggregating query).
enum class ScopeKind { Source, Aggregate };

struct Scope {
    ScopeKind kind;
    const char* clause;        // for messages: "WHERE", "GROUP BY", "SELECT", "HAVING", "an aggregate argument"
};

/// True when SQL names an aggregate function (the aggregate catalog, runtime/aggregates).
bool isAggregateFunction(const std::string& name);
/// True when the expression holds an aggregate or a window auxiliary function (TUMBLE_END, …).
bool containsAggregateOrAuxiliary(const Expression& expression);

plan::WindowKind groupWindowKind(const std::string& name);
const char* windowName(plan::WindowKind kind);
/// Which bound of the window an auxiliary function returns: `*_START`, `*_END`, or `*_ROWTIME` (end − 1 ms, the
/// window's rowtime attribute in Flink).
enum class WindowBound { Start, End, Rowtime };
/// `HOP_START` → (HOP, Start); `TUMBLE_END` → (TUMBLE, End); `SESSION_ROWTIME` → (SESSION, Rowtime).
bool windowAuxiliary(const std::string& name, plan::WindowKind& kind, WindowBound& bound);
/// The same, for callers that only ask whether the name is one.
bool windowAuxiliary(const std::string& name, plan::WindowKind& kind, bool& isEnd);

/// Window bounds are bound as placeholder columns, fixed once HAVING has added its aggregates (which moves them).
constexpr int kWindowStartPlaceholder = 1 << 20;
constexpr int kWindowEndPlaceholder = kWindowStartPlaceholder + 1;
void replaceWindowPlaceholders(BoundExpression& expression, int start, int end);
/// The window bound as an expression over the placeholder columns (`*_ROWTIME`: end − 1 ms).
BoundExpressionPtr windowBoundColumn(WindowBound bound);

/// Binds one query: resolves names against the source message, types every expression, applies Flink's GROUP BY,
/// window and alias rules.
class Binder {
public:
    Binder(const spec::Source& source, const catalog::MessageSchema& schema, const sql::SqlLocator& locate,
           DiagnosticEngine& diagnostics)
        : spec_(source), schema_(schema), locate_(locate), diagnostics_(&diagnostics) {}

    // ---- the query and its clauses (query_binder.cpp) ----
    std::optional<LogicalPlan> bind(const sql::Query& query);

private:
    Diagnostic& error(ErrorCode code, sql::Span span, std::string message);
    void bindSource();
    void bindKeyField(const spec::Located<std::string>& field);
    void bindFrom(const sql::TableReference& from);
    void bindWhere(const Expression& where);
    static void splitConjuncts(const BoundExpressionPtr& expression, std::vector<BoundExpressionPtr>& out);
    bool requireBoolean(const BoundExpression& bound, const Expression& expression, const char* clause);
    void bindGroupBy(const sql::Query& query);
    void bindSelect(const sql::Query& query);
    void addOutput(OutputColumn output, std::map<std::string, sql::Span>& names);
    std::string describe(sql::Span span) const;
    void bindHaving(const Expression& having);

    // ---- expressions (expression_binder.cpp) ----
    /// Binds silently (no diagnostics), for trying whether an expression equals a GROUP BY key.
    BoundExpressionPtr tryBind(const Expression& expression, Scope scope);
    BoundExpressionPtr bindExpression(const Expression& expression, Scope scope);
    BoundExpressionPtr bindLiteral(const Expression& expression);
    /// The column name with a leading table name or alias removed (`t.a.b` → `a.b`).
    std::string resolvedColumnName(const Expression& expression) const;
    BoundExpressionPtr bindColumn(const Expression& expression);
    /// Casts `expression` to `type` when needed (implicit widening); a NULL literal just takes the type.
    static BoundExpressionPtr coerce(const BoundExpressionPtr& expression, plan::TypeId type);
    /// The type two operands are compared or combined in, or TYPE_NULL when they are incompatible.
    static std::optional<plan::TypeId> commonType(plan::TypeId a, plan::TypeId b);
    std::vector<BoundExpressionPtr> bindArguments(const Expression& expression, Scope scope, bool& ok);
    BoundExpressionPtr bindUnary(const Expression& expression, Scope scope);
    void typeMismatch(const Expression& at, std::string message);
    BoundExpressionPtr bindBinary(const Expression& expression, Scope scope);
    /// `SUM(cancelled) / COUNT(*)` divides integers and truncates: a rate of 1/6 comes out as 0. Division by a constant
    /// (`SUM(ms) / 1000`) is a deliberate unit conversion and not reported; a ratio of two aggregates is.
    void warnIntegerDivision(const Expression& division);
    static bool isInteger(plan::TypeId type);
    /// `event_type = 'ORDER_DELIVRED'` can never be true: an error (a typo would silently filter out every row),
    /// with the closest value of the enum.
    void checkEnumComparison(const BoundExpressionPtr& column, const Expression& literalExpression, const BoundExpressionPtr& literal);
    BoundExpressionPtr bindCase(const Expression& expression, Scope scope);
    std::optional<plan::TypeId> castTarget(const sql::DataType& type);
    static bool castAllowed(plan::TypeId from, plan::TypeId to);
    BoundExpressionPtr bindCast(const Expression& expression, Scope scope);
    BoundExpressionPtr bindIn(const Expression& expression, Scope scope);
    BoundExpressionPtr bindBetween(const Expression& expression, Scope scope);
    BoundExpressionPtr bindLike(const Expression& expression, Scope scope);
    BoundExpressionPtr bindIsNull(const Expression& expression, Scope scope);
    BoundExpressionPtr bindIsBoolean(const Expression& expression, Scope scope);

    // ---- scalar functions (function_binder.cpp) ----
    BoundExpressionPtr bindFunction(const Expression& expression, Scope scope);

    // ---- aggregates (aggregate_binder.cpp) ----
    BoundExpressionPtr bindAggregate(const Expression& expression);
    Diagnostic& error_last();
    BoundExpressionPtr aggregateReference(size_t index);
    static bool containsAggregate(const Expression& expression);

    // ---- the group window and its auxiliary functions (group_window_binder.cpp) ----
    std::optional<int64_t> intervalArgument(const Expression& argument, const char* what);
    /// The time argument of a group window or auxiliary function must be the event-time attribute.
    bool checkTimeAttribute(const Expression& argument, const std::string& function);
    void bindGroupWindow(const Expression& call);
    /// Rejects a HOP or CUMULATE that puts every row into more windows than the runtime supports.
    bool checkWindowsPerRow(const WindowSpec& window, sql::Span at);
    /// `FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(_time), size))`, HOP and CUMULATE: the window of the query.
    void bindWindowTable(const sql::WindowTableFunction& function);
    /// `window_start`, `window_end`, `window_time` of a window TVF: true (and the bound) when the column is one.
    bool windowTableColumn(const Expression& expression, WindowBound& bound) const;
    BoundExpressionPtr bindWindowAuxiliary(const Expression& expression, plan::WindowKind kind, WindowBound bound);

    const spec::Source& spec_;
    const catalog::MessageSchema& schema_;
    const sql::SqlLocator& locate_;
    DiagnosticEngine* diagnostics_;
    LogicalPlan plan_;
    std::vector<std::string> tableNames_;
    bool windowError_ = false;
    bool windowTable_ = false;  // FROM is a window TVF (even one with errors: its columns still resolve)
};

} // namespace pipec::logical::binding
