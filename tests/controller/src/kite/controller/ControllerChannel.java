package kite.controller;

import hudson.remoting.Channel;
import hudson.remoting.Command;
import hudson.remoting.PingThread;
import hudson.remoting.ProxyException;
import hudson.remoting.ProxyOutputStream;
import hudson.remoting.RemoteClassLoader;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.Request;
import hudson.remoting.Response;
import hudson.remoting.UnexportCommand;
import hudson.remoting.UserRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The controller's end of a remoting channel over one WebSocket connection: chunk framing,
 * one JDK ObjectOutputStream per command, request ids, and the answers a controller gives to
 * what the agent sends (responses, pings, unexports, close).
 */
final class ControllerChannel implements AutoCloseable {
    /** Export id of the controller's class loader, as named in every request's classLoaderProxy. */
    static final int LOADER_OID = 2;
    /** Chunk payload limit remoting's transports use. */
    private static final int CHUNK = 8192;

    /** The decoded outcome of one UserRequest: a value, or the exception the agent sent. */
    record Outcome(Object value, Throwable raw, Throwable proxy, List<Payloads.Annotation> annotations, int lastIoId) {
        boolean failed() {
            return raw != null || proxy != null;
        }
    }

    /** Thrown when the agent's response could not be decoded. */
    static final class BadResponse extends IOException {
        BadResponse(String message, Throwable cause) {
            super(message, cause);
        }
    }

    final WebSocketServer.Connection ws;
    private final AtomicInteger nextId = new AtomicInteger(100);
    private final Map<Integer, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "controller-worker");
        t.setDaemon(true);
        return t;
    });
    private final CompletableFuture<String> ended = new CompletableFuture<>();
    private final AtomicBoolean closeSent = new AtomicBoolean();
    private Thread reader;

    /** When false, pings from the agent are read but never answered (the no-ping scenario). */
    volatile boolean answerAgentPings = true;
    final AtomicInteger agentPings = new AtomicInteger();
    final AtomicInteger loaderNameCalls = new AtomicInteger();
    final AtomicInteger closeCommandsReceived = new AtomicInteger();
    final List<Integer> unexported = new CopyOnWriteArrayList<>();
    final List<ProxyOutputStream.Chunk> chunks = new CopyOnWriteArrayList<>();
    final List<ProxyOutputStream.EOF> eofs = new CopyOnWriteArrayList<>();
    final List<String> commandErrors = new CopyOnWriteArrayList<>();
    /**
     * Streams the controller exported, by oid: chunks for these go to the stream instead of
     * {@link #chunks}, and the agent's EOF closes it. Written on the reader thread, in order.
     */
    final Map<Integer, OutputStream> exportedStreams = new ConcurrentHashMap<>();
    /**
     * Answers the agent's UserRequests other than pings (a scenario's exported objects, such as
     * the durable-task watcher's ExecutionRemotable.exited). Runs on a worker thread; the returned
     * value is sent back. Null: such a request is a failed check.
     */
    volatile Function<Object, Object> agentCalls;
    /** Receives, on the reader thread, the commands handled nowhere else here (Pipe$ConnectCommand, Ack). */
    volatile Consumer<Command> otherCommands;
    /**
     * Decides on the reader thread whether a received chunk is acknowledged at once (null: always).
     * For a chunk it rejects, the scenario sends the Ack itself later, which holds back the agent's window.
     */
    volatile Predicate<ProxyOutputStream.Chunk> ackAtOnce;
    /**
     * I/O ids of the stream commands the controller sends (Chunk, EOF). Each UserRequest carries
     * the last one as lastIoId, so the agent applies those writes before it runs the callable.
     */
    final AtomicInteger ioIds = new AtomicInteger();

    ControllerChannel(WebSocketServer.Connection ws) {
        this.ws = ws;
    }

    void start() {
        reader = new Thread(this::readLoop, "controller-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Completes with a description once the agent's side of the connection is gone. */
    CompletableFuture<String> ended() {
        return ended;
    }

    private void readLoop() {
        ByteArrayOutputStream command = new ByteArrayOutputStream();
        try {
            while (true) {
                byte[] message = ws.readMessage();
                if (message == null) {
                    ended.complete(ws.closeReceived() ? "agent sent a close frame" : "agent closed the socket");
                    break;
                }
                int pos = 0;
                while (pos < message.length) {
                    if (message.length - pos < 2) {
                        throw new IOException("chunk header split across messages");
                    }
                    int header = ((message[pos] & 0xff) << 8) | (message[pos + 1] & 0xff);
                    int len = header & 0x7fff;
                    boolean more = (header & 0x8000) != 0;
                    if (len > message.length - pos - 2) {
                        throw new IOException("chunk of " + len + " bytes exceeds its message");
                    }
                    command.write(message, pos + 2, len);
                    pos += 2 + len;
                    if (!more) {
                        dispatch(command.toByteArray());
                        command.reset();
                    }
                }
            }
        } catch (IOException e) {
            ended.complete("read failed: " + e);
        }
        for (CompletableFuture<Response> f : pending.values()) {
            f.completeExceptionally(new IOException("channel ended before the response"));
        }
    }

    private void dispatch(byte[] bytes) {
        Object c;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            c = in.readObject();
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            commandErrors.add(e.toString());
            Report.fail("agent sent an undecodable command (" + bytes.length + " bytes): " + e);
            return;
        }
        if (c instanceof Response r) {
            CompletableFuture<Response> f = pending.remove(r.id);
            if (f == null) {
                Report.info("response to unknown request " + r.id + " (late or cancelled)");
            } else {
                f.complete(r);
            }
        } else if (c instanceof UserRequest ur) {
            workers.submit(() -> serveUserRequest(ur));
        } else if (c instanceof RemoteInvocationHandler.RPCRequest rpc) {
            workers.submit(() -> serveRpc(rpc));
        } else if (c instanceof UnexportCommand u) {
            unexported.add(u.oid);
        } else if (c instanceof Channel.CloseCommand) {
            closeCommandsReceived.incrementAndGet();
            if (closeSent.compareAndSet(false, true)) {
                try {
                    send(new Channel.CloseCommand());
                } catch (IOException e) {
                    Report.info("could not answer the agent's close: " + e);
                }
            }
            try {
                ws.sendClose(1000);
            } catch (IOException ignored) {
                // The agent may already have gone.
            }
        } else if (c instanceof ProxyOutputStream.Chunk chunk) {
            OutputStream stream = exportedStreams.get(chunk.oid);
            if (stream == null) {
                chunks.add(chunk);
            } else {
                try {
                    stream.write(chunk.buf);
                } catch (IOException e) {
                    Report.info("could not write a chunk to exported stream " + chunk.oid + ": " + e);
                }
            }
            Predicate<ProxyOutputStream.Chunk> ackNow = ackAtOnce;
            if (ackNow == null || ackNow.test(chunk)) {
                try {
                    send(new ProxyOutputStream.Ack(chunk.oid, chunk.buf.length));
                } catch (IOException e) {
                    Report.info("could not acknowledge a chunk: " + e);
                }
            }
        } else if (c instanceof ProxyOutputStream.EOF eof && exportedStreams.containsKey(eof.oid)) {
            eofs.add(eof);
            if (eof.error != null) {
                Report.info("agent closed exported stream " + eof.oid + " with an error: " + eof.error);
            }
            try {
                exportedStreams.remove(eof.oid).close();
            } catch (IOException e) {
                Report.info("could not close exported stream " + eof.oid + ": " + e);
            }
        } else if (otherCommands != null && c instanceof Command command) {
            otherCommands.accept(command);
        } else if (c instanceof ProxyOutputStream.EOF eof) {
            eofs.add(eof);
        } else {
            Report.info("agent sent " + c.getClass().getName());
        }
    }

    /** Answers a UserRequest from the agent: a remoting ping, or a call {@link #agentCalls} answers. */
    private void serveUserRequest(UserRequest ur) {
        Object callable;
        List<Payloads.Annotation> seen = new ArrayList<>();
        try {
            callable = Payloads.read(ur.request, LOADER_OID, seen);
        } catch (IOException | ClassNotFoundException e) {
            Report.fail("agent's UserRequest " + ur.id + " (" + ur.toString + ") has an undecodable payload: " + e);
            return;
        }
        boolean ping = callable instanceof PingThread.Ping;
        Function<Object, Object> handler = agentCalls;
        if (!ping && handler == null) {
            Report.fail("agent sent an unexpected callable " + callable.getClass().getName());
            return;
        }
        if (ping) {
            agentPings.incrementAndGet();
        }
        // The real controller wraps the request's class loader proxy and asks its name first.
        if (ur.classLoaderProxy == null || !Proxy.isProxyClass(ur.classLoaderProxy.getClass())) {
            Report.fail("agent request " + ur.id + " (" + ur.toString + ") carries no class loader proxy");
        } else {
            RemoteInvocationHandler h = (RemoteInvocationHandler) Proxy.getInvocationHandler(ur.classLoaderProxy);
            if (h.userProxy) {
                Report.fail("agent's class loader proxy has userProxy=true; its RPCs would need a UserRequest");
            }
            try {
                Object name = rpc(h.oid, RemoteClassLoader.IClassLoader.class.getName(), "getName", new String[0],
                        new Object[0], 10_000);
                if (name instanceof String) {
                    loaderNameCalls.incrementAndGet();
                } else {
                    Report.fail("agent's IClassLoader.getName returned " + name);
                }
            } catch (Exception e) {
                if (closeSent.get()) {
                    // The controller closed the channel while this request was in flight.
                    Report.info("agent's IClassLoader.getName on oid " + h.oid + " ended with the channel: " + e);
                } else {
                    Report.fail("agent's IClassLoader.getName on oid " + h.oid + " failed: " + e);
                }
            }
        }
        if (ping && !answerAgentPings) {
            return;
        }
        try {
            Object result = ping ? null : handler.apply(callable);
            send(new Response(ur.id, 0, new UserRequest.NormalResponse(Payloads.write(result, LOADER_OID)), null));
        } catch (IOException e) {
            Report.info("could not answer agent request " + ur.id + ": " + e);
        }
    }

    private void serveRpc(RemoteInvocationHandler.RPCRequest rpc) {
        Response r = new Response(rpc.id, 0, null,
                new IllegalStateException("the test controller exports no object " + rpc.oid));
        try {
            send(r);
        } catch (IOException e) {
            Report.info("could not answer RPC " + rpc.id + ": " + e);
        }
    }

    /** Serializes one command with a plain ObjectOutputStream and sends it in chunks. */
    void send(Command command) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(command);
        }
        sendCommandBytes(bytes.toByteArray());
    }

    /** Sends already-serialized command bytes in chunks of at most 8192 bytes, one message each. */
    synchronized void sendCommandBytes(byte[] data) throws IOException {
        int pos = 0;
        do {
            int len = Math.min(CHUNK, data.length - pos);
            boolean more = pos + len < data.length;
            byte[] message = new byte[len + 2];
            message[0] = (byte) ((more ? 0x80 : 0) | (len >> 8));
            message[1] = (byte) len;
            System.arraycopy(data, pos, message, 2, len);
            ws.sendBinary(message);
            pos += len;
        } while (pos < data.length);
    }

    static RemoteClassLoader.IClassLoader loaderProxy() {
        return (RemoteClassLoader.IClassLoader) Proxy.newProxyInstance(ControllerChannel.class.getClassLoader(),
                new Class<?>[] {RemoteClassLoader.IClassLoader.class, hudson.remoting.IReadResolve.class},
                new RemoteInvocationHandler(LOADER_OID, false));
    }

    int newId() {
        return nextId.getAndIncrement();
    }

    /** Sends {@code callable} in a UserRequest and returns the future of its Response. */
    CompletableFuture<Response> callAsync(Serializable callable) throws IOException {
        return callAsync(newId(), Payloads.write(callable, LOADER_OID),
                callable.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(callable)));
    }

    CompletableFuture<Response> callAsync(int id, byte[] payload, String toString) throws IOException {
        CompletableFuture<Response> f = new CompletableFuture<>();
        pending.put(id, f);
        UserRequest request = new UserRequest(id, loaderProxy(), payload, toString);
        request.lastIoId = ioIds.get();
        send(request);
        return f;
    }

    /** Calls {@code callable} and decodes the agent's answer. */
    Outcome call(Serializable callable, long timeoutMillis) throws Exception {
        return decode(callAsync(callable).get(timeoutMillis, TimeUnit.MILLISECONDS));
    }

    Outcome decode(Response r) throws BadResponse {
        if (r.exception != null) {
            return new Outcome(null, r.exception, null, List.of(), r.lastIoId);
        }
        List<Payloads.Annotation> seen = new ArrayList<>();
        try {
            if (r.returnValue instanceof UserRequest.NormalResponse n) {
                return new Outcome(Payloads.read(n.response, LOADER_OID, seen), null, null, seen, r.lastIoId);
            }
            if (r.returnValue instanceof UserRequest.ExceptionResponse e) {
                Throwable raw = e.rawResponse == null ? null : (Throwable) Payloads.read(e.rawResponse, LOADER_OID, seen);
                Throwable proxy = e.proxyResponse == null ? null : (Throwable) Payloads.read(e.proxyResponse, LOADER_OID, seen);
                if (proxy != null && !(proxy instanceof ProxyException)) {
                    throw new BadResponse("proxyResponse holds " + proxy.getClass().getName() + ", not ProxyException", null);
                }
                return new Outcome(null, raw, proxy, seen, r.lastIoId);
            }
        } catch (IOException | ClassNotFoundException | ClassCastException e) {
            throw new BadResponse("response " + r.id + " cannot be deserialized: " + e, e);
        }
        throw new BadResponse("response " + r.id + " carries " + (r.returnValue == null ? "null" : r.returnValue.getClass().getName())
                + " instead of NormalResponse or ExceptionResponse", null);
    }

    /** Calls a method of an object the agent exported, as a bare RPCRequest (userProxy=false). */
    Object rpc(int oid, String declaringClass, String method, String[] types, Object[] args, long timeoutMillis)
            throws Exception {
        int id = newId();
        CompletableFuture<Response> f = new CompletableFuture<>();
        pending.put(id, f);
        send(new RemoteInvocationHandler.RPCRequest(id, oid, declaringClass, method, types, args));
        Response r = f.get(timeoutMillis, TimeUnit.MILLISECONDS);
        if (r.exception != null) {
            throw new IOException("RPC " + method + " on oid " + oid + " failed", r.exception);
        }
        return r.returnValue;
    }

    /** Calls a method of a userProxy export: a UserRPCRequest inside a UserRequest. */
    Outcome userRpc(int oid, String declaringClass, String method, String[] types, Object[] args, long timeoutMillis)
            throws Exception {
        int id = newId();
        RemoteInvocationHandler.UserRPCRequest inner =
                new RemoteInvocationHandler.UserRPCRequest(newId(), oid, declaringClass, method, types, args);
        String toString = "UserRPCRequest:" + declaringClass + "." + method + "[" + String.join(",", types) + "](" + oid + ")";
        return decode(callAsync(id, Payloads.write(inner, LOADER_OID), toString).get(timeoutMillis, TimeUnit.MILLISECONDS));
    }

    /** Sends the controller's close command and waits for the agent's close command and socket close. */
    boolean closeOrderly(long timeoutMillis) throws IOException {
        if (closeSent.compareAndSet(false, true)) {
            send(new Channel.CloseCommand());
        }
        try {
            ended.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return false;
        } catch (Exception e) {
            return false;
        }
        return closeCommandsReceived.get() > 0;
    }

    /** Waits for the agent's side to go away, or the time-out. Returns the reason or null. */
    String awaitEnd(long timeoutMillis) {
        try {
            return ended.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void close() {
        try {
            ws.close();
        } catch (IOException ignored) {
            // Closing a socket that is already gone.
        }
        workers.shutdownNow();
    }
}
