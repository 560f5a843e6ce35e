package kite.controller;

import java.lang.reflect.InvocationTargetException;
import java.util.List;

/**
 * Finds the scenarios that live outside Main. Each group is a class in this package with a
 * public no-argument constructor and a method {@code boolean run(Main m, String scenario)} that
 * returns false for names it does not know. A group's sources are listed in its own
 * tests/controller/GROUP/meson.build, so groups are added without editing Main.
 */
final class ScenarioGroups {
    private static final List<String> GROUPS = List.of(
            "kite.controller.FilePathScenarios",
            "kite.controller.StepScenarios",
            "kite.controller.DurableScenarios",
            "kite.controller.PipelineScenarios",
            "kite.controller.BreakScenarios");

    private ScenarioGroups() {}

    /** Runs {@code scenario} in the first group that knows it; false when none does. */
    static boolean run(Main m, String scenario) throws Exception {
        for (String name : GROUPS) {
            Class<?> group;
            try {
                group = Class.forName(name);
            } catch (ClassNotFoundException absent) {
                continue;
            }
            Object instance = group.getDeclaredConstructor().newInstance();
            try {
                Object known = group.getMethod("run", Main.class, String.class).invoke(instance, m, scenario);
                if (Boolean.TRUE.equals(known)) {
                    return true;
                }
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof Exception cause) {
                    throw cause;
                }
                throw e;
            }
        }
        return false;
    }
}
