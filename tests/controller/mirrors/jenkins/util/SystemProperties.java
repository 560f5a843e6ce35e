package jenkins.util;

import java.util.Map;
import jenkins.security.MasterToSlaveCallable;

/** Mirror holding SystemProperties$AgentCopier$CopySystemProperties. */
public final class SystemProperties {
    private SystemProperties() {}

    public static final class AgentCopier {
        private AgentCopier() {}

        public static final class CopySystemProperties extends MasterToSlaveCallable {
            private static final long serialVersionUID = 1L;
            public final Map<String, String> snapshot;

            public CopySystemProperties(Map<String, String> snapshot) {
                this.snapshot = snapshot;
            }
        }
    }
}
