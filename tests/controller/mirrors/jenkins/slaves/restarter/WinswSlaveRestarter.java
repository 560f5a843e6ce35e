package jenkins.slaves.restarter;

/** Mirror of Jenkins' WinswSlaveRestarter. */
public final class WinswSlaveRestarter extends SlaveRestarter {
    private static final long serialVersionUID = 1L;
}
