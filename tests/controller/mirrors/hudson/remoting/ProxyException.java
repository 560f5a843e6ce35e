package hudson.remoting;

import java.io.IOException;

/** Mirror of remoting's ProxyException: the portable copy of a remote exception. */
public final class ProxyException extends IOException {
    private static final long serialVersionUID = 1332793125360580541L;

    public ProxyException(String message) {
        super(message);
    }
}
