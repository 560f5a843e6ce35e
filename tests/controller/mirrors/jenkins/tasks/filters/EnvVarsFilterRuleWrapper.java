package jenkins.tasks.filters;

import java.io.Serializable;
import java.util.List;

/** Mirror of EnvVarsFilterRuleWrapper: the environment filter rules of a launch (usually none). */
public final class EnvVarsFilterRuleWrapper implements Serializable {
    private static final long serialVersionUID = -8647970104978388598L;
    public final List<Object> rules;

    public EnvVarsFilterRuleWrapper(List<Object> rules) {
        this.rules = rules;
    }
}
