package hudson.remoting;

/** Mirror of remoting's UnexportCommand: drop one reference to export {@code oid}. */
public final class UnexportCommand extends Command {
    private static final long serialVersionUID = 1L;
    public final int oid;

    public UnexportCommand(int oid) {
        this.oid = oid;
    }
}
