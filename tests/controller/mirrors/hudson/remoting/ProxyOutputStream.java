package hudson.remoting;

/** Mirror holding the ProxyOutputStream commands (stream writes with window-based flow control). */
public final class ProxyOutputStream {
    private ProxyOutputStream() {}

    public static final class Chunk extends Command {
        private static final long serialVersionUID = 1L;
        public final int ioId;
        public final int oid;
        public final int requestId;
        public final byte[] buf;

        public Chunk(int ioId, int oid, int requestId, byte[] buf) {
            this.ioId = ioId;
            this.oid = oid;
            this.requestId = requestId;
            this.buf = buf;
        }
    }

    public static final class Flush extends Command {
        private static final long serialVersionUID = 1L;
        public final int ioId;
        public final int oid;
        public final int requestId;

        public Flush(int ioId, int oid, int requestId) {
            this.ioId = ioId;
            this.oid = oid;
            this.requestId = requestId;
        }
    }

    public static final class EOF extends Command {
        private static final long serialVersionUID = 1L;
        public final int ioId;
        public final int oid;
        public final int requestId;
        public final Throwable error;

        public EOF(int ioId, int oid, int requestId, Throwable error) {
            this.ioId = ioId;
            this.oid = oid;
            this.requestId = requestId;
            this.error = error;
        }
    }

    public static final class Unexport extends Command {
        private static final long serialVersionUID = 1L;
        public final int ioId;
        public final int oid;

        public Unexport(int ioId, int oid) {
            this.ioId = ioId;
            this.oid = oid;
        }
    }

    public static final class Ack extends Command {
        private static final long serialVersionUID = 1L;
        public final int oid;
        public final int size;

        public Ack(int oid, int size) {
            this.oid = oid;
            this.size = size;
        }
    }

    public static final class NotifyDeadWriter extends Command {
        private static final long serialVersionUID = 1L;
        public final int oid;

        public NotifyDeadWriter(int oid) {
            this.oid = oid;
        }
    }
}
