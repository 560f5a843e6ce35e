package hudson;

import java.util.TreeMap;

/** Mirror of Jenkins' EnvVars: a case-insensitive TreeMap plus the agent's platform. */
public final class EnvVars extends TreeMap<String, String> {
    private static final long serialVersionUID = 4320331661987259022L;

    public Platform platform;

    public EnvVars() {
        super(String.CASE_INSENSITIVE_ORDER);
    }

    /** Mirror of EnvVars$GetEnvVars. */
    public static final class GetEnvVars extends jenkins.security.MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }
}
