package hudson.remoting;

import java.io.Serializable;

/** Mirror of remoting's Response. */
public final class Response extends Command {
    private static final long serialVersionUID = 1L;

    public int id;
    public int lastIoId;
    public Throwable exception;
    public Serializable returnValue;

    public Response(int id, int lastIoId, Serializable returnValue, Throwable exception) {
        this.id = id;
        this.lastIoId = lastIoId;
        this.returnValue = returnValue;
        this.exception = exception;
    }
}
