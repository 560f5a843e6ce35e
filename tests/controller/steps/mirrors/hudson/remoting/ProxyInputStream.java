package hudson.remoting;

import java.io.Serializable;

/**
 * Mirror holding the ProxyInputStream commands: how the agent pulls bytes from a non-greedy
 * RemoteInputStream the controller exported (one Chunk request per read, answered by a Buffer).
 */
public final class ProxyInputStream {
    private ProxyInputStream() {}

    /** A read request for up to {@code len} bytes of export {@code oid}; answered by a Buffer. */
    public static final class Chunk extends Request {
        private static final long serialVersionUID = 1L;
        public final int oid;
        public final int len;

        public Chunk(int oid, int len) {
            this.oid = oid;
            this.len = len;
        }
    }

    /** The answer to a Chunk: the first {@code len} bytes of {@code buf} are valid; len -1 is the end of the stream. */
    public static final class Buffer implements Serializable {
        private static final long serialVersionUID = 1L;
        public byte[] buf;
        public int len;

        public Buffer(int len, byte[] buf) {
            this.len = len;
            this.buf = buf;
        }
    }

    /** Sent by the reader when it is done: the exporter closes and unexports {@code oid}. */
    public static final class EOF extends Command {
        private static final long serialVersionUID = 1L;
        public final int oid;

        public EOF(int oid) {
            this.oid = oid;
        }
    }
}
