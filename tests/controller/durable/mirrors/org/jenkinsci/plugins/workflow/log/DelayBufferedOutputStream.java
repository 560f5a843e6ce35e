package org.jenkinsci.plugins.workflow.log;

import java.io.Serializable;

/** Mirror of workflow-api's DelayBufferedOutputStream; only its Tuning crosses the wire. */
public final class DelayBufferedOutputStream {
    private DelayBufferedOutputStream() {}

    /** Mirror of DelayBufferedOutputStream$Tuning with the plugin's defaults (milliseconds, bytes). */
    public static final class Tuning implements Serializable {
        private static final long serialVersionUID = -722764062640914069L;
        public final long minRecurrencePeriod = 1000;
        public final long maxRecurrencePeriod = 10000;
        public final float recurrencePeriodBackoff = 1.05f;
        public final int bufferSize = 1 << 16;
    }
}
