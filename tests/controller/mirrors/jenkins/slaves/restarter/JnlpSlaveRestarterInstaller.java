package jenkins.slaves.restarter;

import java.util.List;
import jenkins.security.MasterToSlaveCallable;

/** Mirror holding JnlpSlaveRestarterInstaller$FindEffectiveRestarters. */
public final class JnlpSlaveRestarterInstaller {
    private JnlpSlaveRestarterInstaller() {}

    public static final class FindEffectiveRestarters extends MasterToSlaveCallable {
        private static final long serialVersionUID = 9015462457743404715L;
        public final List<SlaveRestarter> restarters;

        public FindEffectiveRestarters(List<SlaveRestarter> restarters) {
            this.restarters = restarters;
        }
    }
}
