package hudson.remoting;

import java.io.Serializable;

/** Mirror of remoting's UserRequest: a callable serialized with class-loader annotations. */
public final class UserRequest extends Request {
    private static final long serialVersionUID = 1L;

    public RemoteClassLoader.IClassLoader classLoaderProxy;
    public byte[] request;
    public String toString;

    public UserRequest(int id, RemoteClassLoader.IClassLoader classLoaderProxy, byte[] request, String toString) {
        this.id = id;
        this.classLoaderProxy = classLoaderProxy;
        this.request = request;
        this.toString = toString;
    }

    /** Mirror of UserRequest$NormalResponse: the payload holds the return value. */
    public static final class NormalResponse implements Serializable {
        private static final long serialVersionUID = 1L;
        public final byte[] response;

        public NormalResponse(byte[] response) {
            this.response = response;
        }
    }

    /** Mirror of UserRequest$ExceptionResponse: the thrown exception and its ProxyException copy. */
    public static final class ExceptionResponse implements Serializable {
        private static final long serialVersionUID = 1L;
        public final byte[] rawResponse;
        public final byte[] proxyResponse;

        public ExceptionResponse(byte[] rawResponse, byte[] proxyResponse) {
            this.rawResponse = rawResponse;
            this.proxyResponse = proxyResponse;
        }
    }
}
