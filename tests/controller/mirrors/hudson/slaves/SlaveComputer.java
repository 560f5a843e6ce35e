package hudson.slaves;

import jenkins.security.MasterToSlaveCallable;

/** Mirror holding the callables SlaveComputer sends while taking an agent online. */
public final class SlaveComputer {
    private SlaveComputer() {}

    public static final class SlaveVersion extends MasterToSlaveCallable {
        private static final long serialVersionUID = -1836292471078227186L;
    }

    public static final class CommunicationProtocol extends MasterToSlaveCallable {
        private static final long serialVersionUID = 5456434590258227786L;
    }

    public static final class DetectOS extends MasterToSlaveCallable {
        private static final long serialVersionUID = -2305095165897831376L;
    }

    public static final class DetectDefaultCharset extends MasterToSlaveCallable {
        private static final long serialVersionUID = -5851131978410997033L;
    }

    public static final class AbsolutePath extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
        public final String relativePath;

        public AbsolutePath(String relativePath) {
            this.relativePath = relativePath;
        }
    }

    public static final class SlaveInitializer extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
        public final int ringBufferSize;

        public SlaveInitializer(int ringBufferSize) {
            this.ringBufferSize = ringBufferSize;
        }
    }

    public static final class ListFullEnvironment extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }

    public static final class SlaveLogFetcher extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }

    public static final class LoadingCount extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
        public final boolean resource;

        public LoadingCount(boolean resource) {
            this.resource = resource;
        }
    }

    public static final class LoadingTime extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
        public final boolean resource;

        public LoadingTime(boolean resource) {
            this.resource = resource;
        }
    }

    public static final class LoadingPrefetchCacheCount extends MasterToSlaveCallable {
        private static final long serialVersionUID = 1L;
    }
}
