package probe;

import java.util.HashMap;
import java.util.Map;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * A tiny keyed counter used by the REST client tests: a sequence source, a throttling map, a keyed
 * count kept in state (exposed as the gauge "totalCount" of operator "counter"), and a print sink.
 * Arguments: --sleepMs N (per record), --keys N, --checkpointMs N (0 = off), --failAtCount N (throw when
 * a key's count reaches N; -1 = never). Uses only APIs present in Flink 1.19+ and 2.x.
 */
public class ProbeJob {

    public static void main(String[] args) throws Exception {
        long sleepMs = longArg(args, "--sleepMs", 10);
        long keys = longArg(args, "--keys", 4);
        long checkpointMs = longArg(args, "--checkpointMs", 0);
        long failAtCount = longArg(args, "--failAtCount", -1);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        if (checkpointMs > 0) {
            env.enableCheckpointing(checkpointMs);
        }
        env.fromSequence(0, Long.MAX_VALUE).name("seq").uid("seq")
                .map(new Throttle(sleepMs)).name("throttle").uid("throttle")
                .keyBy(v -> v % keys)
                .process(new Counter(failAtCount)).name("counter").uid("counter")
                .print().name("print").uid("print");
        env.execute("probe-job");
    }

    private static long longArg(String[] args, String name, long fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return Long.parseLong(args[i + 1]);
            }
        }
        return fallback;
    }

    static final class Throttle extends RichMapFunction<Long, Long> {
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

    static final class Counter extends KeyedProcessFunction<Long, Long, String> {
        private final long failAtCount;
        private transient ValueState<Long> count;
        // Latest count per key seen by this subtask; their sum is the gauge (it continues after a restore).
        private transient Map<Long, Long> latest;

        Counter(long failAtCount) {
            this.failAtCount = failAtCount;
        }

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
            latest = new HashMap<>();
            getRuntimeContext().getMetricGroup().gauge("totalCount", (Gauge<Long>) () -> {
                long total = 0;
                for (long c : latest.values()) {
                    total += c;
                }
                return total;
            });
        }

        @Override
        public void processElement(Long value, Context ctx, Collector<String> out) throws Exception {
            Long current = count.value();
            long next = (current == null ? 0 : current) + 1;
            count.update(next);
            latest.put(ctx.getCurrentKey(), next);
            if (failAtCount > 0 && next >= failAtCount) {
                throw new IllegalStateException("probe failure: key " + ctx.getCurrentKey() + " reached " + next);
            }
            if (next % 100 == 0) {
                out.collect("key=" + ctx.getCurrentKey() + " count=" + next + " seq=" + value);
            }
        }
    }
}
