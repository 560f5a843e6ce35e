package hudson.remoting;

/** Mirror of remoting's Request: a command that expects one Response with the same id. */
public abstract class Request extends Command {
    private static final long serialVersionUID = 1L;

    public int id;
    public int lastIoId;
    public Response response;

    /** Mirror of Request$Cancel: asks the peer to interrupt the running request {@code id}. */
    public static final class Cancel extends Command {
        private static final long serialVersionUID = -1709992419006993208L;
        public final int id;

        public Cancel(int id) {
            this.id = id;
        }
    }
}
