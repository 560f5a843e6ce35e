package hudson.remoting;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;

/**
 * Mirror of remoting's RemoteInvocationHandler: the handler inside every exported proxy.
 * The test controller reads its fields and sends RPCs itself, so invoke() is never used.
 */
public final class RemoteInvocationHandler implements InvocationHandler, Serializable {
    private static final long serialVersionUID = 1L;

    public final int oid;
    public final boolean userProxy;
    public final boolean autoUnexportByCaller;
    public boolean goingHome;
    public final Throwable origin;
    public final boolean userSpace;
    public final boolean recordCreatedAt;

    public RemoteInvocationHandler(int oid, boolean userProxy) {
        this.oid = oid;
        this.userProxy = userProxy;
        this.userSpace = userProxy;
        this.autoUnexportByCaller = false;
        this.origin = null;
        this.recordCreatedAt = false;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) {
        if (method.getName().equals("readResolve")) {
            return proxy;  // IReadResolve: deserialization keeps the proxy itself
        }
        if (method.getName().equals("toString")) {
            return "RemoteInvocationHandler{oid=" + oid + "}";
        }
        if (method.getName().equals("hashCode")) {
            return oid;
        }
        if (method.getName().equals("equals")) {
            return proxy == args[0];
        }
        throw new UnsupportedOperationException("the test controller calls " + method + " through ControllerChannel.rpc");
    }

    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.defaultWriteObject();
    }

    /** Mirror of RemoteInvocationHandler$RPCRequest: a method call on an exported object. */
    public static class RPCRequest extends Request {
        private static final long serialVersionUID = 1L;
        public final int oid;
        public final String methodName;
        public final String[] types;
        public final Object[] arguments;
        public final String declaringClassName;

        public RPCRequest(int id, int oid, String declaringClassName, String methodName, String[] types, Object[] arguments) {
            this.id = id;
            this.oid = oid;
            this.declaringClassName = declaringClassName;
            this.methodName = methodName;
            this.types = types;
            this.arguments = arguments;
        }
    }

    /** Mirror of RemoteInvocationHandler$UserRPCRequest: an RPCRequest that travels inside a UserRequest. */
    public static final class UserRPCRequest extends RPCRequest {
        private static final long serialVersionUID = -9185841650347902580L;

        public UserRPCRequest(int id, int oid, String declaringClassName, String methodName, String[] types, Object[] arguments) {
            super(id, oid, declaringClassName, methodName, types, arguments);
        }
    }
}
