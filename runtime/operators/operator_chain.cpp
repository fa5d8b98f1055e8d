#include "runtime/operators/operator_chain.h"

#include <algorithm>
#include <stdexcept>

namespace pipec::runtime {

FilterOperator::FilterOperator(std::string name, const google::protobuf::RepeatedPtrField<plan::Expr>& predicates)
    : name_(std::move(name)) {
    for (const auto& predicate : predicates) predicates_.push_back(CompiledExpression::compile(predicate));
}

void FilterOperator::processBatch(RowBatch& batch, Collector& out) {
    size_t kept = 0;
    for (size_t i = 0; i < batch.size; ++i) {
        bool passes = true;
        for (const auto& predicate : predicates_) {
            if (!predicate.evaluatePredicate(batch.rows[i])) {
                passes = false;
                break;
            }
        }
        if (!passes) continue;
        if (kept != i) {
            // Swapping keeps every row's allocation in the batch for reuse.
            batch.rows[kept].swap(batch.rows[i]);
            batch.times[kept] = batch.times[i];
        }
        ++kept;
    }
    dropped_ += batch.size - kept;
    batch.size = kept;
    if (kept > 0) out.collect(batch);
}

// Results go on in batches of bounded size, so firing a day of windows does not hold them all at once.
constexpr size_t kMaxFiredBatch = 4096;

WindowAggregateOperator::WindowAggregateOperator(const plan::WindowAggregate& window, RowBatch& output)
    : window_(WindowOperator::create(window)), output_(output) {
    // Built once: the watermark moves after nearly every row of an ordered replay.
    emit_ = [this](Row& row) {
        // Taken, not copied: the window builds every column of its result row afresh for each result, so the stale
        // row it gets back in exchange is as good as its own.
        output_.append(row.back().i - 1).swap(row);
        ++emitted_;
        if (output_.size >= kMaxFiredBatch) {
            out_->collect(output_);
            output_.clear();
        }
    };
}

void WindowAggregateOperator::processBatch(RowBatch& batch, Collector&) {
    for (size_t i = 0; i < batch.size; ++i)
        if (window_->add(batch.rows[i], batch.times[i], watermark_) == WindowAdd::Late) ++late_;
}

void WindowAggregateOperator::onWatermark(int64_t watermark, Collector& out) {
    if (watermark <= watermark_) return;
    watermark_ = watermark;
    out_ = &out;
    output_.clear();  // (shared: nothing another chain left behind, even after a sink threw)
    window_->fire(watermark, emit_);
    if (!output_.empty()) out.collect(output_);
    output_.clear();
}

void WindowAggregateOperator::writeMeta(StateWriter& writer) const {
    writer.writeI64(watermark_);
    window_->writeMeta(writer);
}

void WindowAggregateOperator::readMeta(StateReader& reader) {
    watermark_ = reader.readI64();
    window_->readMeta(reader);
}

void WindowAggregateOperator::snapshot(StateWriter& writer) const {
    writer.writeI64(watermark_);
    for (uint64_t counter : {late_, emitted_}) writer.writeU64(counter);
    window_->write(writer);
}

void WindowAggregateOperator::restore(StateReader& reader) {
    watermark_ = reader.readI64();
    late_ = reader.readU64();
    emitted_ = reader.readU64();
    window_->read(reader);
}

ProjectOperator::ProjectOperator(const google::protobuf::RepeatedPtrField<plan::Expr>& outputs, RowBatch& output) : output_(output) {
    for (const auto& output : outputs) {
        outputs_.push_back(CompiledExpression::compile(output));
        copiedColumns_.push_back(output.kind_case() == plan::Expr::kColumn ? output.column() : -1);
    }
    leadingColumns_ = true;
    for (size_t i = 0; i < copiedColumns_.size(); ++i) leadingColumns_ = leadingColumns_ && copiedColumns_[i] == static_cast<int>(i);
}

void ProjectOperator::processBatch(RowBatch& batch, Collector& out) {
    if (leadingColumns_) {
        // SELECT of the input's leading columns (the group keys and aggregates of a window's result, in order): the
        // batch's rows are cut to size in place and passed on, nothing copied.
        bool wide = true;
        for (size_t r = 0; r < batch.size && wide; ++r) wide = batch.rows[r].size() >= outputs_.size();
        if (wide) {
            for (size_t r = 0; r < batch.size; ++r) batch.rows[r].resize(outputs_.size());
            if (batch.size > 0) out.collect(batch);
            return;
        }
    }
    output_.clear();
    for (size_t r = 0; r < batch.size; ++r) {
        const Row& input = batch.rows[r];
        Row& row = output_.append(batch.times[r]);
        row.resize(outputs_.size());
        for (size_t i = 0; i < outputs_.size(); ++i) {
            // Most outputs are plain columns: copy them without going through the evaluator.
            int column = copiedColumns_[i];
            if (column >= 0 && static_cast<size_t>(column) < input.size()) row[i] = input[static_cast<size_t>(column)];
            else row[i] = outputs_[i].evaluate(input);
        }
    }
    if (!output_.empty()) out.collect(output_);
}

/// Hands an operator's output to the next operator, or (the last link) to the sink.
struct OperatorChain::Link : Collector {
    Operator* next = nullptr;
    Collector* after = nullptr;
    RowSink* sink = nullptr;
    bool windowed = false;
    uint64_t rowsOut = 0;

    void collect(RowBatch& batch) override {
        if (next != nullptr) return next->processBatch(batch, *after);
        rowsOut += batch.size;
        for (size_t i = 0; i < batch.size; ++i) {
            if (windowed) sink->writeWindowed(batch.rows[i], batch.times[i] + 1);
            else sink->write(batch.rows[i]);
        }
    }
};

OperatorChain::OperatorChain(const plan::Pipeline& plan, RowSink& sink, ChainBuffers* shared) {
    if (shared == nullptr) {
        ownBuffers_ = std::make_unique<ChainBuffers>();
        shared = ownBuffers_.get();
    }
    if (plan.filters_size() > 0) {
        auto where = std::make_unique<FilterOperator>("where", plan.filters());
        where_ = where.get();
        operators_.push_back(std::move(where));
    }
    if (plan.has_window() && plan.window().kind() != plan::WINDOW_NONE) {
        auto window = std::make_unique<WindowAggregateOperator>(plan.window(), shared->windowResults);
        window_ = window.get();
        operators_.push_back(std::move(window));
        if (plan.window().has_having()) {
            google::protobuf::RepeatedPtrField<plan::Expr> having;
            *having.Add() = plan.window().having();
            auto filter = std::make_unique<FilterOperator>("having", having);
            having_ = filter.get();
            operators_.push_back(std::move(filter));
        }
    }
    operators_.push_back(std::make_unique<ProjectOperator>(plan.outputs(), shared->projected));
    // Link i hands operator i's output to operator i + 1; the last one writes to the sink.
    links_.resize(operators_.size());
    for (size_t i = operators_.size(); i-- > 0;) {
        auto link = std::make_unique<Link>();
        if (i + 1 < operators_.size()) {
            link->next = operators_[i + 1].get();
            link->after = links_[i + 1].get();
        } else {
            link->sink = &sink;
            link->windowed = window_ != nullptr;
            rowsOut_ = &link->rowsOut;
        }
        links_[i] = std::move(link);
    }
}

OperatorChain::~OperatorChain() = default;

void OperatorChain::process(RowBatch& batch) {
    rowsIn_ += batch.size;
    if (batch.size > 0) operators_.front()->processBatch(batch, *links_.front());
}

void OperatorChain::advanceWatermark(int64_t watermark) {
    if (watermark <= watermark_) return;
    watermark_ = watermark;
    for (size_t i = 0; i < operators_.size(); ++i) operators_[i]->onWatermark(watermark, *links_[i]);
}

int64_t OperatorChain::nextTimer() const {
    int64_t next = std::numeric_limits<int64_t>::max();
    for (const auto& op : operators_) next = std::min(next, op->nextTimer());
    return next;
}

bool OperatorChain::finalUpTo(int64_t time) const {
    for (const auto& op : operators_)
        if (!op->finalUpTo(time)) return false;
    return true;
}

ChainStats OperatorChain::stats() const {
    ChainStats stats;
    stats.rowsIn = rowsIn_;
    stats.rowsFiltered = where_ ? where_->rowsDropped() : 0;
    stats.lateRowsDropped = window_ ? window_->lateRows() : 0;
    stats.windowsFired = window_ ? window_->resultsEmitted() : 0;
    stats.rowsOut = *rowsOut_;
    return stats;
}

void OperatorChain::writeMeta(StateWriter& writer) const {
    writer.writeI64(watermark_);
    writer.writeU64(operators_.size());
    for (const auto& op : operators_) {
        writer.writeString(op->name());
        StateWriter part;
        op->writeMeta(part);
        writer.writeString(part.bytes());
    }
}

void OperatorChain::readMeta(StateReader& reader) {
    watermark_ = reader.readI64();
    if (reader.readU64() != operators_.size()) throw std::runtime_error("checkpoint does not match the plan: operator count");
    for (const auto& op : operators_) {
        if (reader.readString() != op->name()) throw std::runtime_error("checkpoint does not match the plan: operators");
        std::string part = reader.readString();
        StateReader partReader(part);
        op->readMeta(partReader);
        if (!partReader.atEnd()) throw std::runtime_error("corrupt checkpoint: operator state");
    }
}

namespace {
/// Prefixes each key with its operator's position in the chain.
class PrefixedSink : public KeyedStateSink {
public:
    PrefixedSink(KeyedStateSink& inner, uint8_t position) : inner_(inner), prefix_(1, static_cast<char>(position)) {}
    void put(std::string_view key, std::string_view state) override { inner_.put(prefixed(key), state); }
    void expire(std::string_view key) override { inner_.expire(prefixed(key)); }

private:
    const std::string& prefixed(std::string_view key) {
        scratch_.assign(prefix_);
        scratch_.append(key);
        return scratch_;
    }
    KeyedStateSink& inner_;
    std::string prefix_;
    std::string scratch_;
};
} // namespace

void OperatorChain::writeKeyedState(KeyedStateSink& out, bool all) {
    for (size_t i = 0; i < operators_.size(); ++i) {
        PrefixedSink prefixed(out, static_cast<uint8_t>(i));
        operators_[i]->writeKeyedState(prefixed, all);
    }
}

bool OperatorChain::restoreKey(std::string_view key, std::string_view state) {
    if (key.empty() || static_cast<uint8_t>(key[0]) >= operators_.size())
        throw std::runtime_error("corrupt checkpoint: an entry for no operator of this plan");
    return operators_[static_cast<uint8_t>(key[0])]->restoreKey(key.substr(1), state);
}

void OperatorChain::restoreFinished() {
    for (const auto& op : operators_) op->restoreFinished();
}

void OperatorChain::snapshot(StateWriter& writer) const {
    writer.writeI64(watermark_);
    writer.writeU64(rowsIn_);
    writer.writeU64(*rowsOut_);
    for (const auto& op : operators_) op->snapshot(writer);
}

void OperatorChain::restore(StateReader& reader) {
    watermark_ = reader.readI64();
    rowsIn_ = reader.readU64();
    *rowsOut_ = reader.readU64();
    for (const auto& op : operators_) op->restore(reader);
}

} // namespace pipec::runtime
