package kite.controller;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32;

/**
 * One stream the controller exported for a step's output (out, err or the listener). It receives
 * the agent's ProxyOutputStream chunks on the channel's reader thread, counts them, keeps a CRC-32
 * of every byte, notes when the first byte arrived and keeps the bytes themselves up to a limit,
 * so a 200 MB step costs the controller no memory.
 */
final class Capture extends OutputStream {
    final int oid;
    private final int keepLimit;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final CRC32 crc = new CRC32();
    private final CompletableFuture<Long> closed = new CompletableFuture<>();
    private volatile long count;
    private volatile long firstByteNanos;
    private volatile long lastByteNanos;

    /** A capture for export {@code oid} that keeps at most {@code keepLimit} bytes. */
    Capture(int oid, int keepLimit) {
        this.oid = oid;
        this.keepLimit = keepLimit;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        long now = System.nanoTime();
        if (count == 0 && len > 0) {
            firstByteNanos = now;
        }
        lastByteNanos = now;
        crc.update(b, off, len);
        int room = (int) Math.max(0, Math.min(len, keepLimit - (long) kept.size()));
        kept.write(b, off, room);
        count += len;
    }

    /** The agent's ProxyOutputStream$EOF arrived. */
    @Override
    public void close() {
        closed.complete(count);
    }

    long count() {
        return count;
    }

    synchronized long crc() {
        return crc.getValue();
    }

    /** The bytes received, up to the keep limit. */
    synchronized byte[] bytes() {
        return kept.toByteArray();
    }

    /** System.nanoTime() of the first byte, 0 before it arrived. */
    long firstByteNanos() {
        return firstByteNanos;
    }

    long lastByteNanos() {
        return lastByteNanos;
    }

    boolean eofReceived() {
        return closed.isDone();
    }

    /** Waits until at least {@code bytes} bytes arrived; false on time-out. */
    boolean awaitCount(long bytes, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (count < bytes) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }
}
