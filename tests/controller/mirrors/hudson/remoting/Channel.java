package hudson.remoting;

import java.io.Serializable;

/** Mirror holding Channel's nested command and callable classes. */
public final class Channel {
    private Channel() {}

    /** Mirror of Channel$CloseCommand: orderly close. */
    public static final class CloseCommand extends Command {
        private static final long serialVersionUID = 972857271608138115L;
    }

    /** Mirror of Channel$IOSyncer: returns once the receiver's pipe writer is drained. */
    public static final class IOSyncer implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Mirror of Channel$SetMaximumBytecodeLevel. */
    public static final class SetMaximumBytecodeLevel implements Serializable {
        private static final long serialVersionUID = 1L;
        public final short level;

        public SetMaximumBytecodeLevel(short level) {
            this.level = level;
        }
    }
}
