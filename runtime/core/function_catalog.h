#pragma once

#include "runtime/core/expression.h"
#include "runtime/core/value.h"

#include <pipec/plan.pb.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::runtime {

/// How NULL arguments reach a function's implementation.
enum class NullHandling {
    Strict,          // a NULL argument makes the result NULL before the implementation runs; never NULL otherwise
    StrictMayBeNull, // as Strict, and the implementation may also return NULL (no match, an unparsable string)
    Custom,          // the implementation sees every argument, NULL or not (AND, OR, CASE, COALESCE, IS NULL, …)
};

/// How a call is written in SQL: `f(a, b)`, or one of the keyword forms of the SQL standard.
enum class CallSyntax {
    Arguments,  // f(a, b, …)
    From,       // EXTRACT(unit FROM ts), SUBSTRING(s FROM a [FOR b]), TRIM([side] [chars] FROM s)
    To,         // FLOOR(ts TO unit), CEIL(ts TO unit)
    In,         // POSITION(a IN b)
    Operator,   // an operator or predicate with its own syntax (`+`, `=`, AND, IN, LIKE, CASE, CAST, …)
};

/// What a type rule sees of a call, and what it decides. The binder fills the argument types (and the values of
/// literal arguments), the rule sets the result type and the type every argument is implicitly cast to.
struct CallTyping {
    std::string name;                             // the function as the query names it (upper case), for messages
    std::vector<plan::TypeId> argumentTypes;
    std::vector<const plan::Literal*> constants;  // per argument: its value when it is a literal, else nullptr
    std::vector<bool> argumentNullable;

    plan::TypeId result = plan::TYPE_NULL;
    std::vector<plan::TypeId> coerceTo;           // per argument; TYPE_NULL keeps the argument's own type
    std::string planFunction;                     // set when the rule picks another plan function than the entry's
    std::optional<bool> nullable;                 // set by rules of Custom functions; else derived from NullHandling

    std::string error;                            // set when the call is ill-typed
    size_t errorArgument = static_cast<size_t>(-1);  // the argument the error points at; -1: the whole call
    bool wrongKind = false;                       // the error is about a constant (a unit, a pattern), not a type
    std::string help;
};

/// Returns false (with `typing.error` set) when the arguments do not fit.
using TypeRule = bool (*)(CallTyping& typing);

/// What an implementation sees of one call on one row.
class CallFrame {
public:
    CallFrame(const CompiledExpression::Node& node, const Row& row, const Value* values)
        : node_(node), row_(row), values_(values) {}

    size_t size() const;
    /// The evaluated argument `i` (Strict and StrictMayBeNull functions: evaluated before the call, never NULL).
    const Value& value(size_t i) const { return values_[i]; }
    /// Evaluates argument `i` now (Custom functions, which decide what to evaluate: CASE, AND, COALESCE).
    Value evaluate(size_t i) const;
    plan::TypeId type() const;                    // the result type
    plan::TypeId argumentType(size_t i) const;

private:
    const CompiledExpression::Node& node_;
    const Row& row_;
    const Value* values_;
};

using Implementation = Value (*)(const CallFrame& call);

/// One scalar function or operator: everything pipec knows about it, in one place. The binder types calls with it,
/// the plan printer and the Flink emitter spell them with it, the runtime evaluates them with it, and constant
/// folding evaluates calls over literals with the runtime's implementation.
struct FunctionDefinition {
    std::string_view planName;                 // `Call.function` in the plan (plan.proto)
    std::vector<std::string_view> sqlNames;    // how SQL writes it (upper case; the first is the canonical name)
    CallSyntax syntax;
    size_t minArguments;
    size_t maxArguments;
    TypeRule typeRule;                         // nullptr for operators: the binder types their syntax itself
    Implementation implementation;
    NullHandling nulls;
    std::string_view flinkName;                // the Flink SQL spelling; empty when Flink has none
    bool deterministic;                        // false: the result depends on more than the arguments (the clock)
    std::string_view infix;                    // operators printed between their operands: "+", "AND"
    int unitArgument;                          // the argument written as a time-unit keyword (EXTRACT, TIMESTAMPADD); -1 none
    std::string_view signature;                // for messages and documentation: "ROUND(x [, n])"
};

/// Every function and operator, in documentation order.
const std::vector<FunctionDefinition>& functionCatalog();
/// The function a plan names, or nullptr.
const FunctionDefinition* findPlanFunction(std::string_view planName);
/// The function a plan names that takes this many arguments (TRIM has a 1- and a 3-argument form), or nullptr.
const FunctionDefinition* findPlanFunction(std::string_view planName, size_t argumentCount);
/// The function SQL names (upper case) with this call syntax, or nullptr.
const FunctionDefinition* findSqlFunction(std::string_view sqlName, CallSyntax syntax);
/// Every SQL function name (for "did you mean" suggestions).
std::vector<std::string> sqlFunctionNames();

// ---- typing helpers shared by the type rules and the binder ----

bool isNumericType(plan::TypeId type);
bool isIntegerType(plan::TypeId type);
bool isFloatingType(plan::TypeId type);
/// The wider of two numeric types (INT < BIGINT < FLOAT < DOUBLE).
plan::TypeId widerNumericType(plan::TypeId a, plan::TypeId b);
/// The type two values are compared or combined in; false when they are incompatible. TYPE_NULL joins anything.
bool commonType(plan::TypeId a, plan::TypeId b, plan::TypeId& result);
/// `TIMESTAMP(3)`, `VARCHAR`, …
std::string sqlTypeName(plan::TypeId type);

} // namespace pipec::runtime
