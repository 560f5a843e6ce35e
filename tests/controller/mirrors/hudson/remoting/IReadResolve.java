package hudson.remoting;

/** Mirror of remoting's marker interface that every exported proxy carries. */
public interface IReadResolve {
    Object readResolve();
}
