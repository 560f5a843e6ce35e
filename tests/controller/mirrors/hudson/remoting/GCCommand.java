package hudson.remoting;

/** Mirror of remoting's GCCommand (a hint to collect garbage; agents may ignore it). */
public final class GCCommand extends Command {
    private static final long serialVersionUID = 1L;
}
