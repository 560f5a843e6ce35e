package kite.controller;

import hudson.remoting.Command;
import hudson.remoting.ProxyInputStream;
import hudson.remoting.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A step's stdin as Jenkins gives it: Launcher.RemoteLauncher wraps ProcStarter.stdin() in a
 * non-greedy hudson.remoting.RemoteInputStream, and the agent pulls the bytes with one
 * ProxyInputStream$Chunk request per read. This class is what the launch record carries; it is
 * written under remoting's class name by {@link #payload}, because the pipeline group already
 * owns the (greedy) hudson.remoting.RemoteInputStream mirror. {@link #serve} answers the
 * agent's reads from a byte array.
 */
final class StdinSource extends InputStream implements Serializable {
    private static final long serialVersionUID = 1L;
    /** remoting's class for a stream the agent reads from the controller. */
    static final String WIRE_NAME = "hudson.remoting.RemoteInputStream";

    private final transient int oid;
    private final transient byte[] data;
    private final transient AtomicInteger served = new AtomicInteger();
    private final transient AtomicInteger reads = new AtomicInteger();
    private final transient CompletableFuture<Void> eof = new CompletableFuture<>();

    StdinSource(int oid, byte[] data) {
        this.oid = oid;
        this.data = data;
    }

    /** Custom data of the non-greedy form: greedy=false, then the export id. */
    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.writeBoolean(false);
        oos.writeInt(oid);
    }

    @Override
    public int read() throws IOException {
        throw new IOException("the agent reads this stream with ProxyInputStream$Chunk requests");
    }

    int oid() {
        return oid;
    }

    /** Bytes already sent to the agent. */
    int served() {
        return served.get();
    }

    /** ProxyInputStream$Chunk requests answered. */
    int reads() {
        return reads.get();
    }

    /** Completes when the agent sent ProxyInputStream$EOF for this stream. */
    CompletableFuture<Void> eof() {
        return eof;
    }

    /**
     * Answers a command from the agent if it concerns this stream; returns false otherwise. Runs
     * on the channel's reader thread, which keeps the reads in order.
     */
    boolean serve(ControllerChannel ch, Command c) throws IOException {
        if (c instanceof ProxyInputStream.Chunk read && read.oid == oid) {
            int from = served.get();
            int n = Math.min(Math.max(read.len, 0), data.length - from);
            ProxyInputStream.Buffer buffer;
            if (n <= 0 && from >= data.length) {
                buffer = new ProxyInputStream.Buffer(-1, new byte[0]);
            } else {
                byte[] buf = new byte[read.len];
                System.arraycopy(data, from, buf, 0, n);
                served.addAndGet(n);
                buffer = new ProxyInputStream.Buffer(n, buf);
            }
            reads.incrementAndGet();
            ch.send(new Response(read.id, 0, buffer, null));
            return true;
        }
        if (c instanceof ProxyInputStream.EOF end && end.oid == oid) {
            eof.complete(null);
            return true;
        }
        return false;
    }

    /**
     * Serializes a UserRequest payload like {@link Payloads#write}, with every StdinSource
     * described as a hudson.remoting.RemoteInputStream (svuid 1, flags SC_SERIALIZABLE |
     * SC_WRITE_METHOD, fields Z autoUnexport and Z greedy, which it writes no values for).
     */
    static byte[] payload(Object value, int loaderOid) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (ObjectOutputStream out = new RenamingOutput(bytes, loaderOid)) {
            out.writeObject(value);
        }
        return bytes.toByteArray();
    }

    private static final class RenamingOutput extends Payloads.AnnotatingOutput {
        RenamingOutput(OutputStream out, int loaderOid) throws IOException {
            super(out, loaderOid);
        }

        @Override
        protected void writeClassDescriptor(ObjectStreamClass desc) throws IOException {
            if (desc.forClass() != StdinSource.class) {
                super.writeClassDescriptor(desc);
                return;
            }
            writeUTF(WIRE_NAME);
            writeLong(1L);
            writeByte(0x02 | 0x01);
            writeShort(2);
            writeByte('Z');
            writeUTF("autoUnexport");
            writeByte('Z');
            writeUTF("greedy");
        }
    }
}
