package kite.controller;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal controller-side HTTP and RFC 6455 server: it answers the agent's readiness probe
 * ({@code GET /login}) and upgrades {@code GET /wsagents/} the way Jenkins does.
 */
final class WebSocketServer implements Closeable {
    private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** Largest frame payload the test accepts from the agent (Kite sends at most 8194 bytes). */
    private static final int MAX_FRAME = 1 << 20;

    private final ServerSocket server;

    WebSocketServer(int port) throws IOException {
        server = new ServerSocket(port, 8, InetAddress.getLoopbackAddress());
    }

    int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /** What the agent sent in its upgrade request. */
    record Handshake(String nodeName, String secret, String capability, String cookie, Map<String, String> headers) {}

    /**
     * Waits up to {@code timeoutMillis} for the next WebSocket upgrade, answering readiness
     * probes on the way. Returns null on time-out.
     */
    Connection accept(int timeoutMillis, String expectedNode, String expectedSecret, String cookieToIssue,
            String capabilityBase64, String minimumVersion) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return null;
            }
            server.setSoTimeout((int) left);
            Socket socket;
            try {
                socket = server.accept();
            } catch (SocketTimeoutException e) {
                return null;
            }
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            socket.setSoTimeout(10_000);
            String requestLine = readLine(in);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
                }
            }
            if (requestLine == null) {
                socket.close();
                continue;
            }
            String[] parts = requestLine.split(" ");
            String path = parts.length > 1 ? parts[1] : "";
            if (path.endsWith("/login")) {
                respond(out, "200 OK", "", "ready\n");
                socket.close();
                continue;
            }
            if (!path.endsWith("/wsagents/")) {
                respond(out, "404 Not Found", "", "not found\n");
                socket.close();
                continue;
            }
            String node = headers.get("node-name");
            String secret = headers.get("secret-key");
            String capability = headers.get("x-remoting-capability");
            String key = headers.get("sec-websocket-key");
            if (node == null || secret == null || capability == null || key == null
                    || !"websocket".equalsIgnoreCase(headers.getOrDefault("upgrade", ""))) {
                Report.fail("upgrade request lacks Node-Name, Secret-Key, X-Remoting-Capability or Upgrade: " + headers.keySet());
                respond(out, "400 Bad Request", "", "This endpoint is only for use from agent.jar in WebSocket mode\n");
                socket.close();
                continue;
            }
            if (!node.equals(expectedNode)) {
                respond(out, "400 Bad Request", "", "no such agent\n");
                socket.close();
                Report.fail("agent connected as node '" + node + "', expected '" + expectedNode + "'");
                continue;
            }
            if (!secret.equals(expectedSecret)) {
                respond(out, "403 Forbidden", "", "wrong secret\n");
                socket.close();
                Report.fail("agent sent a wrong Secret-Key for node " + node);
                continue;
            }
            String accept = base64Sha1(key + WS_GUID);
            StringBuilder extra = new StringBuilder();
            extra.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
            extra.append("Sec-WebSocket-Accept: ").append(accept).append("\r\n");
            extra.append("X-Remoting-Capability: ").append(capabilityBase64).append("\r\n");
            if (minimumVersion != null) {
                extra.append("X-Remoting-Minimum-Version: ").append(minimumVersion).append("\r\n");
            }
            extra.append("Connection-Cookie: ").append(cookieToIssue).append("\r\n");
            out.write(("HTTP/1.1 101 Switching Protocols\r\n" + extra + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.setSoTimeout(0);
            return new Connection(socket, in, out,
                    new Handshake(node, secret, capability, headers.get("connection-cookie"), headers));
        }
    }

    private static void respond(OutputStream out, String status, String headers, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " + b.length
                + "\r\nConnection: close\r\n" + headers + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                break;
            }
            if (c != '\r') {
                line.write(c);
            }
            if (line.size() > 16384) {
                throw new IOException("HTTP header line longer than 16 KiB");
            }
        }
        if (c == -1 && line.size() == 0) {
            return null;
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    private static String base64Sha1(String s) {
        try {
            return Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One upgraded connection: binary messages in and out, pings answered, close handled. */
    static final class Connection implements Closeable {
        final Socket socket;
        final Handshake handshake;
        private final DataInputStream in;
        private final OutputStream out;
        private volatile boolean closeReceived;

        Connection(Socket socket, InputStream in, OutputStream out, Handshake handshake) {
            this.socket = socket;
            this.in = new DataInputStream(in);
            this.out = out;
            this.handshake = handshake;
        }

        boolean closeReceived() {
            return closeReceived;
        }

        /**
         * Returns the next binary message, or null once the agent closed (close frame or end of
         * stream). Agent frames must be masked, as RFC 6455 requires of clients.
         */
        byte[] readMessage() throws IOException {
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            while (true) {
                int b0;
                try {
                    b0 = in.readUnsignedByte();
                } catch (EOFException e) {
                    return null;
                }
                int b1 = in.readUnsignedByte();
                int opcode = b0 & 0x0f;
                boolean fin = (b0 & 0x80) != 0;
                if ((b1 & 0x80) == 0) {
                    throw new IOException("agent sent an unmasked frame");
                }
                long len = b1 & 0x7f;
                if (len == 126) {
                    len = in.readUnsignedShort();
                } else if (len == 127) {
                    len = in.readLong();
                }
                if (len < 0 || len > MAX_FRAME) {
                    throw new IOException("agent frame of " + len + " bytes exceeds " + MAX_FRAME);
                }
                byte[] mask = new byte[4];
                in.readFully(mask);
                byte[] payload = new byte[(int) len];
                in.readFully(payload);
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i & 3];
                }
                switch (opcode) {
                    case 0x8 -> {
                        closeReceived = true;
                        synchronized (this) {
                            try {
                                writeFrame(0x8, payload.length >= 2 ? new byte[] {payload[0], payload[1]} : new byte[0]);
                            } catch (IOException ignored) {
                                // The agent may already have gone.
                            }
                        }
                        return null;
                    }
                    case 0x9 -> sendFrame(0xA, payload);
                    case 0xA -> { }
                    case 0x0, 0x2 -> {
                        message.write(payload);
                        if (fin) {
                            return message.toByteArray();
                        }
                    }
                    default -> throw new IOException("agent sent a frame with opcode " + opcode);
                }
            }
        }

        void sendBinary(byte[] data) throws IOException {
            sendFrame(0x2, data);
        }

        void sendPing(byte[] data) throws IOException {
            sendFrame(0x9, data);
        }

        synchronized void sendFrame(int opcode, byte[] data) throws IOException {
            writeFrame(opcode, data);
        }

        private void writeFrame(int opcode, byte[] data) throws IOException {
            ByteArrayOutputStream f = new ByteArrayOutputStream(data.length + 10);
            f.write(0x80 | opcode);
            if (data.length < 126) {
                f.write(data.length);
            } else if (data.length < 65536) {
                f.write(126);
                f.write(data.length >> 8);
                f.write(data.length);
            } else {
                f.write(127);
                for (int shift = 56; shift >= 0; shift -= 8) {
                    f.write((int) ((long) data.length >> shift));
                }
            }
            f.write(data);
            out.write(f.toByteArray());
            out.flush();
        }

        /** Writes raw bytes to the socket, for the fault scenarios. */
        synchronized void sendRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        synchronized void sendClose(int code) throws IOException {
            writeFrame(0x8, new byte[] {(byte) (code >> 8), (byte) code});
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
