#pragma once

#include "compiler/sql/ast.h"

#include <pipec/plan.pb.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pipec::logical {

enum class BoundKind { Column, Literal, Call };

struct BoundExpression;
using BoundExpressionPtr = std::shared_ptr<BoundExpression>;

/// A type-checked expression. Column indexes refer to the input row of the operator that evaluates it;
/// Call functions use the runtime's function names (see plan.proto `Call`).
struct BoundExpression {
    BoundKind kind = BoundKind::Literal;
    plan::TypeId type = plan::TYPE_NULL;
    bool nullable = true;
    int column = -1;           // Column
    std::string name;          // Column: its name, for printing
    plan::Literal literal;     // Literal
    std::string function;      // Call
    std::vector<BoundExpressionPtr> arguments;
    sql::Span span;

    static BoundExpressionPtr makeColumn(int column, std::string name, plan::TypeId type, bool nullable);
    static BoundExpressionPtr makeLiteral(plan::Literal literal, plan::TypeId type);
    static BoundExpressionPtr makeCall(std::string function, plan::TypeId type, std::vector<BoundExpressionPtr> arguments);
};

/// Deterministic text form used by the plan printer, e.g. `SUM(CAST($4:has_order AS INT))`.
std::string printExpression(const BoundExpression& expression);
/// Structural equality (same function tree, columns and literals).
bool sameExpression(const BoundExpression& a, const BoundExpression& b);
/// Calls `visit` on every column index the expression reads.
void visitColumns(const BoundExpression& expression, const std::function<void(int)>& visit);
/// Rewrites column indexes through `mapping` (old index → new index) in place.
void remapColumns(BoundExpression& expression, const std::vector<int>& mapping);
/// Lowers to the plan contract.
plan::Expr toPlanExpression(const BoundExpression& expression);

std::string typeName(plan::TypeId type);
bool isNumeric(plan::TypeId type);
/// The wider of two numeric types (INT < BIGINT < FLOAT < DOUBLE).
plan::TypeId widerNumeric(plan::TypeId a, plan::TypeId b);

} // namespace pipec::logical
