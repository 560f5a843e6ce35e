package hudson.remoting;

import java.io.IOException;

/** Stand-in with the name and computed serialVersionUID of remoting's ProxyException. */
public class ProxyException extends IOException {
    private static final long serialVersionUID = 1332793125360580541L;

    public ProxyException(String message) {
        super(message);
    }
}
