package hudson.node_monitors;

import java.io.Serializable;
import jenkins.security.MasterToSlaveCallable;

/** Mirror holding the response-time round trip: Step2 goes out, Step3 comes back with Data echoed. */
public final class ResponseTimeMonitor {
    private ResponseTimeMonitor() {}

    public static final class Step2 extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
        public final Data cur;
        public final long start;

        public Step2(Data cur, long start) {
            this.cur = cur;
            this.start = start;
        }
    }

    public static final class Step3 implements Serializable {
        private static final long serialVersionUID = 1L;
        public Data cur;
        public long start;
    }

    public static final class Data extends MonitorOfflineCause {
        private static final long serialVersionUID = 1L;
        public final long[] past5;

        public Data(long[] past5) {
            this.past5 = past5;
        }
    }
}
