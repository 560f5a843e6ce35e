package jenkins.security;

import java.io.Serializable;

/** Mirror of Jenkins' MasterToSlaveCallable, the superclass of controller-to-agent callables. */
public abstract class MasterToSlaveCallable implements Serializable {
    private static final long serialVersionUID = 1L;
}
