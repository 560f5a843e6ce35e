package hudson.slaves;

import jenkins.security.MasterToSlaveCallable;

/** Mirror holding ChannelPinger$SetUpRemotePing. */
public final class ChannelPinger {
    private ChannelPinger() {}

    public static final class SetUpRemotePing extends MasterToSlaveCallable {
        private static final long serialVersionUID = -2702219700841759872L;
        public final int pingIntervalSeconds;
        public final int pingTimeoutSeconds;

        public SetUpRemotePing(int pingIntervalSeconds, int pingTimeoutSeconds) {
            this.pingIntervalSeconds = pingIntervalSeconds;
            this.pingTimeoutSeconds = pingTimeoutSeconds;
        }
    }
}
