package hudson.model;

import java.io.Serializable;
import jenkins.security.MasterToSlaveCallable;

/** Mirror holding the clock-difference callable and its answer. */
public final class Slave {
    private Slave() {}

    /** What GetClockDifference1.writeReplace puts on the wire. */
    public static final class GetClockDifference2 extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
        public final long startTime;

        public GetClockDifference2(long startTime) {
            this.startTime = startTime;
        }
    }

    /** The agent's answer (serialVersionUID as computed for the real class). */
    public static final class GetClockDifference3 implements Serializable {
        private static final long serialVersionUID = -6655128034486338777L;
        public long remoteTime;
        public long startTime;
    }
}
