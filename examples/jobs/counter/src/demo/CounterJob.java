/*
 * A small stateful streaming job used by the tests, the benchmarks and the demo.
 *
 * It counts records per key in keyed ValueState and is checkpointed, so a restore from a savepoint or a retained
 * checkpoint makes the counts continue. The progress is visible through two gauges of the "counter" operator:
 *   counter.maxCount    the largest per-key count this subtask has produced since it started
 *   counter.firstCount  the count of the first record this subtask produced since it started:
 *                       1 after a fresh start, more than 1 when the state was restored
 *
 * Only APIs present in both Flink 1.20 and 2.x are used, so one jar runs on both.
 *
 * Arguments (all optional): --sleepMs N (per record, default 10), --keys N (default 4),
 * --checkpointMs N (0 = leave it to the configuration, default 0), --printEvery N (default 100),
 * --failEveryMs N (0 = never, default 0): every attempt of the counter throws N ms after it started, so the job
 * keeps failing and restarting (as far as its restart strategy allows) while its state still progresses between
 * failures; used to test how unhealthy jobs are handled.
 */
package demo;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

public final class CounterJob {

    private CounterJob() {}

    public static void main(String[] args) throws Exception {
        long sleepMs = longArg(args, "--sleepMs", 10L);
        long keys = longArg(args, "--keys", 4L);
        long checkpointMs = longArg(args, "--checkpointMs", 0L);
        long printEvery = longArg(args, "--printEvery", 100L);
        long failEveryMs = longArg(args, "--failEveryMs", 0L);
        if (keys < 1) {
            throw new IllegalArgumentException("--keys must be at least 1, got " + keys);
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        if (checkpointMs > 0) {
            env.enableCheckpointing(checkpointMs);
        }
        env.fromSequence(0L, Long.MAX_VALUE)
                .name("seq")
                .uid("seq")
                .map(new Throttle(sleepMs))
                .name("throttle")
                .uid("throttle")
                .keyBy(new ModuloKey(keys))
                .process(new Counter(printEvery, failEveryMs))
                .name("counter")
                .uid("counter")
                .print()
                .name("print")
                .uid("print");
        env.execute("counter-job");
    }

    private static long longArg(String[] args, String name, long fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (name.equals(args[i])) {
                try {
                    return Long.parseLong(args[i + 1]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(name + " expects a whole number, got '" + args[i + 1] + "'", e);
                }
            }
        }
        return fallback;
    }

    /** Slows the source down so that the job runs for a long time on a tiny budget. */
    static final class Throttle implements MapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;
        private final long sleepMs;

        Throttle(long sleepMs) {
            this.sleepMs = sleepMs;
        }

        @Override
        public Long map(Long value) throws Exception {
            if (sleepMs > 0) {
                Thread.sleep(sleepMs);
            }
            return value;
        }
    }

    static final class ModuloKey implements KeySelector<Long, Long> {
        private static final long serialVersionUID = 1L;
        private final long keys;

        ModuloKey(long keys) {
            this.keys = keys;
        }

        @Override
        public Long getKey(Long value) {
            return value % keys;
        }
    }

    /** Keeps one count per key in checkpointed state and reports progress through gauges. */
    static final class Counter extends KeyedProcessFunction<Long, Long, String> {
        private static final long serialVersionUID = 1L;
        private final long printEvery;
        private final long failEveryMs;
        private transient ValueState<Long> count;
        private transient volatile long maxCount;
        private transient volatile long firstCount;
        private transient long openedAt;

        Counter(long printEvery, long failEveryMs) {
            this.printEvery = printEvery;
            this.failEveryMs = failEveryMs;
        }

        @Override
        public void open(OpenContext openContext) {
            openedAt = System.currentTimeMillis();
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            getRuntimeContext().getMetricGroup().gauge("maxCount", (Gauge<Long>) () -> maxCount);
            getRuntimeContext().getMetricGroup().gauge("firstCount", (Gauge<Long>) () -> firstCount);
        }

        @Override
        public void processElement(Long value, Context ctx, Collector<String> out) throws Exception {
            if (failEveryMs > 0 && System.currentTimeMillis() - openedAt >= failEveryMs) {
                throw new IllegalStateException(
                        "injected failure " + failEveryMs + " ms after the counter started (--failEveryMs)");
            }
            Long previous = count.value();
            long next = previous == null ? 1L : previous + 1L;
            count.update(next);
            if (firstCount == 0L) {
                firstCount = next;
            }
            if (next > maxCount) {
                maxCount = next;
            }
            if (printEvery > 0 && next % printEvery == 0) {
                out.collect("key=" + ctx.getCurrentKey() + " count=" + next + " seq=" + value);
            }
        }
    }
}
