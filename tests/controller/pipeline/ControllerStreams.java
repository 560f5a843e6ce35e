package kite.controller;

import hudson.remoting.Command;
import hudson.remoting.Pipe;
import hudson.remoting.ProxyOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The controller's ends of the streams a Pipeline step uses: streams it exports for the agent to
 * write into (a RemoteOutputStream or a remote-to-local Pipe), and local-to-remote Pipes it writes
 * into after the agent's Pipe$ConnectCommand, with remoting's window-based flow control.
 */
final class ControllerStreams {
    /** remoting's default pipe window (hudson.remoting.Channel.pipeWindowSize), in bytes. */
    static final int WINDOW_BYTES = 1 << 20;
    /** Bytes per Chunk the controller sends; remoting allows up to half the window. */
    static final int CHUNK_BYTES = 64 * 1024;

    /** Export ids for the controller's streams, above those ShellStep and the class loader use. */
    private static final AtomicInteger NEXT_OID = new AtomicInteger(500);

    private final ControllerChannel ch;
    private final Map<Integer, CompletableFuture<Integer>> connects = new ConcurrentHashMap<>();
    private final Map<Integer, Window> windows = new ConcurrentHashMap<>();

    ControllerStreams(ControllerChannel ch) {
        this.ch = ch;
        ch.otherCommands = this::onCommand;
    }

    static int newOid() {
        return NEXT_OID.getAndIncrement();
    }

    /** A stream the controller exported: the bytes the agent wrote, and whether its EOF arrived. */
    static final class Collected extends OutputStream {
        private final OutputStream target;
        private final CompletableFuture<Long> closed = new CompletableFuture<>();
        private long count;

        Collected(OutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            target.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            target.close();
            closed.complete(count);
        }

        /** Waits for the agent's EOF; true when it came within the time-out. */
        boolean awaitEof(long timeoutMillis) {
            try {
                closed.get(timeoutMillis, TimeUnit.MILLISECONDS);
                return true;
            } catch (Exception e) {
                return false;
            }
        }

        byte[] bytes() {
            return target instanceof ByteArrayOutputStream b ? b.toByteArray() : new byte[0];
        }

        long count() {
            return count;
        }
    }

    /** Exports a stream under {@code oid} that keeps the bytes in memory. */
    Collected collect(int oid) {
        return export(oid, new ByteArrayOutputStream());
    }

    /** Exports {@code target} under {@code oid}; the agent's EOF closes it. */
    Collected export(int oid, OutputStream target) {
        Collected c = new Collected(target);
        ch.exportedStreams.put(oid, c);
        return c;
    }

    /** Flow-control state of one stream the controller writes to. */
    private static final class Window {
        private long available = WINDOW_BYTES;
        private boolean dead;

        synchronized void ack(int size) {
            available += size;
            notifyAll();
        }

        synchronized void kill() {
            dead = true;
            notifyAll();
        }

        /** Takes up to {@code wanted} bytes of window, waiting for at least a tenth of it; 0 when dead. */
        synchronized int take(int wanted, long deadlineNanos) throws InterruptedException, IOException {
            int needed = Math.min(wanted, WINDOW_BYTES / 10);
            while (!dead && available < needed) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("no Ack from the agent freed the pipe window in time");
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            if (dead) {
                return 0;
            }
            int n = (int) Math.min(wanted, available);
            available -= n;
            return n;
        }
    }

    private void onCommand(Command c) {
        if (c instanceof Pipe.ConnectCommand connect) {
            windows.putIfAbsent(connect.oidPos, new Window());
            connects.computeIfAbsent(connect.oidRos, k -> new CompletableFuture<>()).complete(connect.oidPos);
        } else if (c instanceof ProxyOutputStream.Ack ack) {
            Window w = windows.get(ack.oid);
            if (w == null) {
                Report.fail("agent acknowledged " + ack.size + " bytes on stream " + ack.oid + ", which the controller never wrote");
            } else {
                w.ack(ack.size);
            }
        } else if (c instanceof ProxyOutputStream.NotifyDeadWriter dead) {
            Report.info("agent reports the reader of stream " + dead.oid + " is gone");
            windows.computeIfAbsent(dead.oid, k -> new Window()).kill();
        } else {
            Report.info("agent sent " + c.getClass().getName());
        }
    }

    /** What a push through a local-to-remote Pipe did. */
    record Pushed(int agentOid, long bytesSent, boolean stoppedByAgent) {}

    /**
     * Writes {@code data} into the local-to-remote Pipe the controller created with id
     * {@code oidRos}: waits for the agent's Pipe$ConnectCommand, sends chunks within the window,
     * then EOF. Stops early when the agent reports the reader gone or {@code call} completes.
     * Returns null when the agent never connected.
     */
    Pushed push(int oidRos, InputStreamSupplier data, Future<?> call, long timeoutMillis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        CompletableFuture<Integer> connected = connects.computeIfAbsent(oidRos, k -> new CompletableFuture<>());
        Integer oidPos = null;
        while (oidPos == null && System.nanoTime() < deadline) {
            try {
                oidPos = connected.get(50, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                if (call.isDone()) {
                    break;
                }
            }
        }
        if (oidPos == null) {
            return null;
        }
        return sendAll(oidPos, data, call, deadline);
    }

    /**
     * Writes {@code data} to the agent's RemoteOutputStream {@code agentOid} (what
     * FilePath$WritePipe returns), then EOF, within the window the agent's Acks open.
     */
    Pushed write(int agentOid, byte[] data) throws Exception {
        windows.putIfAbsent(agentOid, new Window());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        return sendAll(agentOid, () -> new java.io.ByteArrayInputStream(data), new CompletableFuture<Void>(), deadline);
    }

    private Pushed sendAll(int oid, InputStreamSupplier data, Future<?> call, long deadline) throws Exception {
        Window w = windows.get(oid);
        long sent = 0;
        boolean stopped = false;
        byte[] buffer = new byte[CHUNK_BYTES];
        try (java.io.InputStream in = data.open()) {
            while (!stopped) {
                int n = in.readNBytes(buffer, 0, buffer.length);
                if (n <= 0) {
                    break;
                }
                int off = 0;
                while (off < n) {
                    int granted = w.take(n - off, deadline);
                    if (granted == 0) {
                        stopped = true;
                        break;
                    }
                    byte[] chunk = java.util.Arrays.copyOfRange(buffer, off, off + granted);
                    ch.send(new ProxyOutputStream.Chunk(ch.ioIds.incrementAndGet(), oid, 0, chunk));
                    off += granted;
                    sent += granted;
                }
                // The agent sends its response once extraction ends, possibly before the stream does.
                stopped |= call.isDone();
            }
        }
        ch.send(new ProxyOutputStream.EOF(ch.ioIds.incrementAndGet(), oid, 0, null));
        return new Pushed(oid, sent, stopped);
    }

    /** Opens the bytes to push; a supplier so large inputs stream from disk. */
    interface InputStreamSupplier {
        java.io.InputStream open() throws IOException;
    }
}
