#include "runtime/core/expression.h"

#include "runtime/core/function_catalog.h"

#include <stdexcept>

namespace pipec::runtime {

/// A compiled expression node: a column, a literal, or a call of a catalog function (function_catalog.h).
struct CompiledExpression::Node {
    enum class Kind { Column, Literal, Call };
    Kind kind = Kind::Literal;
    plan::TypeId type = plan::TYPE_NULL;
    int column = -1;
    Value literal;
    const FunctionDefinition* function = nullptr;
    std::vector<std::unique_ptr<Node>> args;

    Value evaluate(const Row& row) const {
        switch (kind) {
        case Kind::Column: return column < static_cast<int>(row.size()) ? row[static_cast<size_t>(column)] : Value::null();
        case Kind::Literal: return literal;
        case Kind::Call: break;
        }
        if (function->nulls == NullHandling::Custom) return function->implementation(CallFrame(*this, row, nullptr));
        // Strict functions: every argument first; a NULL one makes the result NULL without calling the function.
        constexpr size_t kInline = 4;
        Value inlineValues[kInline];
        std::vector<Value> heapValues;
        Value* values = inlineValues;
        if (args.size() > kInline) {
            heapValues.resize(args.size());
            values = heapValues.data();
        }
        for (size_t i = 0; i < args.size(); ++i) {
            values[i] = args[i]->evaluate(row);
            if (values[i].isNull) return Value::null();
        }
        return function->implementation(CallFrame(*this, row, values));
    }
};

size_t CallFrame::size() const { return node_.args.size(); }
Value CallFrame::evaluate(size_t i) const { return node_.args[i]->evaluate(row_); }
plan::TypeId CallFrame::type() const { return node_.type; }
plan::TypeId CallFrame::argumentType(size_t i) const { return node_.args[i]->type; }

namespace {

std::unique_ptr<CompiledExpression::Node> build(const plan::Expr& expression) {
    using Node = CompiledExpression::Node;
    auto node = std::make_unique<Node>();
    node->type = expression.type();
    switch (expression.kind_case()) {
    case plan::Expr::kColumn:
        node->kind = Node::Kind::Column;
        node->column = expression.column();
        if (node->column < 0) throw std::invalid_argument("negative column index in plan");
        break;
    case plan::Expr::kLiteral: {
        node->kind = Node::Kind::Literal;
        const auto& literal = expression.literal();
        if (!literal.is_null()) {
            switch (literal.value_case()) {
            case plan::Literal::kBoolValue: node->literal = Value::ofBool(literal.bool_value()); break;
            case plan::Literal::kIntValue: node->literal = Value::ofInt(literal.int_value()); break;
            case plan::Literal::kDoubleValue: node->literal = Value::ofDouble(literal.double_value()); break;
            case plan::Literal::kStringValue: node->literal = Value::ofString(literal.string_value()); break;
            default: break;
            }
        }
        break;
    }
    case plan::Expr::kCall: {
        node->kind = Node::Kind::Call;
        const auto& call = expression.call();
        size_t count = static_cast<size_t>(call.args_size());
        if (!findPlanFunction(call.function())) throw std::invalid_argument("unknown function `" + call.function() + "` in plan");
        node->function = findPlanFunction(call.function(), count);
        if (!node->function)
            throw std::invalid_argument("function `" + call.function() + "` with " + std::to_string(count) + " arguments in plan");
        for (const auto& argument : call.args()) node->args.push_back(build(argument));
        break;
    }
    default: throw std::invalid_argument("empty expression in plan");
    }
    return node;
}

} // namespace

CompiledExpression CompiledExpression::compile(const plan::Expr& expression) {
    CompiledExpression compiled;
    compiled.root_ = build(expression);
    return compiled;
}

Value CompiledExpression::evaluate(const Row& row) const { return root_ ? root_->evaluate(row) : Value::null(); }

bool CompiledExpression::evaluatePredicate(const Row& row) const {
    Value value = evaluate(row);
    return !value.isNull && value.i != 0;
}

plan::TypeId CompiledExpression::type() const { return root_ ? root_->type : plan::TYPE_NULL; }

CompiledExpression::CompiledExpression() = default;
CompiledExpression::~CompiledExpression() = default;
CompiledExpression::CompiledExpression(CompiledExpression&&) noexcept = default;
CompiledExpression& CompiledExpression::operator=(CompiledExpression&&) noexcept = default;

} // namespace pipec::runtime
