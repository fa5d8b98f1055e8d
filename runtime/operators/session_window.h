#pragma once

#include "runtime/operators/window_operator.h"

#include <set>
#include <tuple>

namespace pipec::runtime {

/// SESSION windows: each row opens [t, t + gap); a key's sessions merge when they overlap or touch. A session
/// fires when the watermark reaches its end − 1; a late row (its own [t, t + gap) already complete) is dropped and
/// can neither reopen nor extend a fired session.
class SessionWindow : public WindowOperator {
public:
    explicit SessionWindow(const plan::WindowAggregate& window);

    WindowAdd add(const Row& row, int64_t time, int64_t watermark) override;
    void fire(int64_t watermark, const Emit& emit) override;
    void write(StateWriter& writer) const override;
    void read(StateReader& reader) override;
    int64_t firedUpTo() const override { return firedUpTo_; }
    int64_t nextTimer() const override { return byEnd_.empty() ? INT64_MAX : std::get<0>(*byEnd_.begin()) - 1; }
    GroupKeyTable& groupKeys() override { return keys_; }
    void writeMeta(StateWriter& writer) const override { writer.writeI64(firedUpTo_); }
    void readMeta(StateReader& reader) override;
    void writeKeyedState(KeyedStateSink& out, bool all) override;
    bool restoreKey(std::string_view key, std::string_view state) override;
    void restoreFinished() override { keys_.clearChanged(); }
    /// A row's session has fired when its own window [time, time + gap) is complete and no open session (which
    /// could have absorbed it) starts at or before it.
    bool complete(int64_t time, int64_t watermark) const override;

private:
    struct Session {
        int64_t start;
        int64_t end;
        std::vector<Accumulator> accumulators;
    };

    int64_t gap_;
    std::vector<AggregateFunction> aggregates_;
    GroupKeyTable keys_;
    std::vector<std::vector<Session>> sessions_;                // per key, ordered by start
    void index(int64_t end, int64_t start, uint32_t key);
    /// Inserts a restored session, refusing one that overlaps or touches another of its key (they would have merged).
    void insertRestored(uint32_t key, Session session);
    void unindex(int64_t end, int64_t start, uint32_t key);

    std::set<std::tuple<int64_t, int64_t, uint32_t>> byEnd_;    // (end, start, key) of every open session
    std::multiset<int64_t> starts_;                              // the starts of the open sessions
    int64_t firedUpTo_ = INT64_MIN;
    Row output_;
};

} // namespace pipec::runtime
