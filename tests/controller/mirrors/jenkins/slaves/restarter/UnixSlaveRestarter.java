package jenkins.slaves.restarter;

/** Mirror of Jenkins' UnixSlaveRestarter. */
public final class UnixSlaveRestarter extends SlaveRestarter {
    private static final long serialVersionUID = 1L;
}
