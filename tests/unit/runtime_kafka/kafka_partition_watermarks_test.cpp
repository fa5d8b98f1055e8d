#include "runtime/kafka/kafka_partition_watermarks.h"

#include <doctest/doctest.h>

#include <random>
#include <vector>

using pipec::runtime::KafkaPartitionWatermarks;

TEST_CASE("the watermark base is the minimum over active partitions") {
    KafkaPartitionWatermarks watermarks(1000);
    watermarks.assign({"t", 0}, 0);
    watermarks.assign({"t", 1}, 0);
    watermarks.observe({"t", 0}, 5000, 10);
    // Partition 1 is active but has delivered nothing: nothing is known yet.
    CHECK_FALSE(watermarks.watermarkBase(20).has_value());
    watermarks.observe({"t", 1}, 3000, 30);
    CHECK(watermarks.watermarkBase(40) == 3000);
    watermarks.observe({"t", 1}, 7000, 50);
    CHECK(watermarks.watermarkBase(60) == 5000);
    // Older events do not move a partition's maximum back.
    watermarks.observe({"t", 0}, 1000, 70);
    CHECK(watermarks.watermarkBase(80) == 5000);
}

TEST_CASE("idle partitions are excluded, and the base never goes back") {
    KafkaPartitionWatermarks watermarks(1000);
    watermarks.assign({"t", 0}, 0);
    watermarks.assign({"t", 1}, 0);
    watermarks.observe({"t", 0}, 9000, 100);
    watermarks.observe({"t", 1}, 2000, 100);
    CHECK(watermarks.watermarkBase(200) == 2000);
    watermarks.observe({"t", 0}, 9500, 1050);
    // Partition 1 has been quiet for 1000 ms: idle.
    CHECK(watermarks.activePartitions(1100) == 1);
    CHECK(watermarks.watermarkBase(1100) == 9500);
    // It wakes up with an older time: the base stays where it was rather than going back.
    watermarks.observe({"t", 1}, 2500, 1200);
    CHECK(watermarks.watermarkBase(1200) == 9500);
    // Everything idle: the maximum seen anywhere.
    CHECK(watermarks.activePartitions(5000) == 0);
    CHECK(watermarks.watermarkBase(5000) == 9500);
}

TEST_CASE("a partition silent since assignment goes idle; revoked partitions stop counting") {
    KafkaPartitionWatermarks watermarks(500);
    watermarks.assign({"t", 0}, 0);
    watermarks.assign({"t", 1}, 0);
    watermarks.observe({"t", 0}, 4000, 100);
    CHECK_FALSE(watermarks.watermarkBase(400).has_value());
    CHECK(watermarks.watermarkBase(600) == 4000);
    watermarks.revoke({"t", 1});
    CHECK(watermarks.assignedPartitions() == 1);

    KafkaPartitionWatermarks neverIdle(0);
    neverIdle.assign({"t", 0}, 0);
    neverIdle.assign({"t", 1}, 0);
    neverIdle.observe({"t", 0}, 4000, 0);
    CHECK_FALSE(neverIdle.watermarkBase(1'000'000).has_value());
}

TEST_CASE("the current minimum drops when a partition behind the others is assigned (lanes follow it)") {
    KafkaPartitionWatermarks watermarks(0);
    watermarks.assign({"t", 0}, 0);
    watermarks.observe({"t", 0}, 9000, 10);
    CHECK(watermarks.watermarkBase(20) == 9000);
    CHECK(watermarks.currentMinimum() == 9000);
    // A new partition: its times are unknown, so is the minimum.
    watermarks.assign({"t", 1}, 30);
    CHECK_FALSE(watermarks.currentMinimum().has_value());
    watermarks.observe({"t", 1}, 4000, 40);
    // The base never goes back; the current minimum does.
    CHECK(watermarks.watermarkBaseAfter(watermarks.state({"t", 1}), 50) == 9000);
    CHECK(watermarks.currentMinimum() == 4000);
    watermarks.observe({"t", 1}, 9500, 60);
    CHECK(watermarks.watermarkBaseAfter(watermarks.state({"t", 1}), 70) == 9000);
    CHECK(watermarks.currentMinimum() == 9000);
    watermarks.observe({"t", 0}, 12000, 80);
    CHECK(watermarks.watermarkBaseAfter(watermarks.state({"t", 0}), 90) == 9500);
    CHECK(watermarks.currentMinimum() == 9500);
}

// The per-record shortcut must give what a full recomputation gives after every record: a second instance fed the
// same records and asked watermarkBase() each time is the reference. Runs of records per partition, idleness,
// partitions reawakening with old times, assignments and revocations are mixed at random.
TEST_CASE("watermarkBaseAfter agrees with a full recomputation after every record") {
    for (uint32_t seed = 1; seed <= 30; ++seed) {
        std::mt19937 random(seed);
        const int64_t idleTimeout = seed % 3 == 0 ? 0 : 500;  // 0: never idle
        KafkaPartitionWatermarks fast(idleTimeout);
        KafkaPartitionWatermarks reference(idleTimeout);
        int64_t now = 0;
        std::vector<int64_t> times(12, 0);
        std::vector<bool> assigned(12, false);
        for (int32_t p = 0; p < 8; ++p) {
            fast.assign({"t", p}, now);
            reference.assign({"t", p}, now);
            assigned[p] = true;
        }
        for (int step = 0; step < 3000; ++step) {
            // Mostly the same wall-clock time for several runs (as within one poll), sometimes a step forward.
            if (random() % 4 == 0) now += static_cast<int64_t>(random() % 160);
            const auto p = static_cast<int32_t>(random() % 12);
            const uint32_t action = random() % 100;
            if (action < 2) {
                if (assigned[p]) {
                    fast.revoke({"t", p});
                    reference.revoke({"t", p});
                } else {
                    fast.assign({"t", p}, now);
                    reference.assign({"t", p}, now);
                }
                assigned[p] = !assigned[p];
                continue;
            }
            if (action < 4 && !assigned[p]) {
                // Known through state() only (as the loop's per-run lookup would make it), without times yet.
                fast.state({"t", p});
                reference.state({"t", p});
                assigned[p] = true;
                continue;
            }
            if (!assigned[p]) continue;
            const int runLength = 1 + static_cast<int>(random() % 20);
            for (int i = 0; i < runLength; ++i) {
                // Mostly ascending per partition, sometimes out of order.
                times[p] += static_cast<int64_t>(random() % 100) - 10;
                auto& state = fast.state({"t", p});
                fast.observe(state, times[p], now);
                reference.observe({"t", p}, times[p], now);
                auto expected = reference.recompute(now);
                CAPTURE(seed);
                CAPTURE(step);
                REQUIRE(fast.watermarkBaseAfter(state, now) == expected);
                REQUIRE(fast.currentMinimum() == reference.currentMinimum());
            }
            if (action < 10) {
                CHECK(fast.watermarkBase(now) == reference.recompute(now));
            }
            if (action >= 95) {
                // Time passes without records (a poll that returned nothing): partitions may go idle meanwhile.
                now += static_cast<int64_t>(random() % 700);
                CAPTURE(seed);
                CAPTURE(step);
                REQUIRE(fast.watermarkBase(now) == reference.recompute(now));
                REQUIRE(fast.currentMinimum() == reference.currentMinimum());
            }
        }
    }
}

TEST_CASE("a partition first seen through state() holds the minimum back like an assigned one") {
    for (int64_t idleTimeout : {int64_t{0}, int64_t{500}}) {
        CAPTURE(idleTimeout);
        KafkaPartitionWatermarks watermarks(idleTimeout);
        watermarks.assign({"t", 0}, 0);
        watermarks.observe({"t", 0}, 10, 1);
        CHECK(watermarks.watermarkBase(1) == 10);
        watermarks.state({"t", 1});  // known now, no times yet
        auto& p0 = watermarks.state({"t", 0});
        watermarks.observe(p0, 20, 1);
        CHECK(watermarks.watermarkBaseAfter(p0, 1) == 10);
        CHECK_FALSE(watermarks.currentMinimum().has_value());
    }
}
