package jenkins.slaves.restarter;

import java.io.Serializable;

/** Mirror of Jenkins' SlaveRestarter. */
public abstract class SlaveRestarter implements Serializable {
    private static final long serialVersionUID = 1L;
}
