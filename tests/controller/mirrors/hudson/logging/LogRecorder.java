package hudson.logging;

import java.util.logging.Level;
import jenkins.security.MasterToSlaveCallable;

/** Mirror holding LogRecorder$SetLevel. */
public final class LogRecorder {
    private LogRecorder() {}

    public static final class SetLevel extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
        public final String name;
        public final Level level;

        public SetLevel(String name, Level level) {
            this.name = name;
            this.level = level;
        }
    }
}
