package hudson.model;

import hudson.remoting.RemoteOutputStream;
import hudson.util.StreamTaskListener;
import java.nio.charset.Charset;

/** Mirror of hudson.model.StreamBuildListener, the freestyle build's listener (no fields of its own). */
public class StreamBuildListener extends StreamTaskListener {
    private static final long serialVersionUID = 1L;

    public StreamBuildListener(RemoteOutputStream remote, Charset charset) {
        super(remote, charset);
    }
}
