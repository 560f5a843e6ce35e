package kite.controller;

import java.util.ArrayList;
import java.util.List;

/** Command-line options of the test controller. */
final class Options {
    String scenario = "connect";
    int port = 0;
    String portFile;
    String node = "n1";
    String secret = "S";
    String workDir;
    String agentCwd;
    String envMarker;            // NAME=VALUE the agent's environment must contain
    int idleSeconds = 5;
    int pingIntervalSeconds = 1;  // controller -> agent pings during the idle period
    int agentPingInterval = 1;    // sent to the agent in SetUpRemotePing
    int agentPingTimeout = 3;
    int acceptTimeoutSeconds = 30;
    int callTimeoutSeconds = 10;
    int benchRounds = 0;          // round-trip bench: number of trivial calls
    boolean quiet = false;

    static final String USAGE = String.join("\n",
            "usage: java -jar test-controller.jar [options]",
            "  --scenario NAME        connect (default), demo, shell, unknown, vanish, noping, badframe,\n"
            + "                         bench (round trips), online-bench, idle-bench",
            "  --port N               listen port on 127.0.0.1 (0 = any free port)",
            "  --port-file FILE       write the chosen port to FILE once listening",
            "  --node NAME --secret S node name and secret the agent must send",
            "  --work-dir DIR         the agent's -workDir (disk-space monitor root)",
            "  --agent-cwd DIR        the agent's working directory (AbsolutePath check)",
            "  --env-marker K=V       a variable the agent's environment must contain",
            "  --idle-seconds N       idle period with pings after going online (default 5)",
            "  --ping-interval N      seconds between controller pings while idle (default 1)",
            "  --agent-ping I,T       interval and timeout in seconds sent in SetUpRemotePing (default 1,3)",
            "  --accept-timeout N     seconds to wait for each agent connection (default 30)",
            "  --rounds N             bench: number of trivial calls to time",
            "  --quiet                print only failures and the summary");

    static Options parse(String[] args) {
        Options o = new Options();
        List<String> a = new ArrayList<>(List.of(args));
        while (!a.isEmpty()) {
            String k = a.remove(0);
            if (k.equals("--quiet")) {
                o.quiet = true;
                continue;
            }
            if (k.equals("--help") || k.equals("-h")) {
                System.out.println(USAGE);
                System.exit(0);
            }
            if (a.isEmpty()) {
                throw new IllegalArgumentException("option " + k + " needs a value\n" + USAGE);
            }
            String v = a.remove(0);
            switch (k) {
                case "--scenario" -> o.scenario = v;
                case "--port" -> o.port = Integer.parseInt(v);
                case "--port-file" -> o.portFile = v;
                case "--node" -> o.node = v;
                case "--secret" -> o.secret = v;
                case "--work-dir" -> o.workDir = v;
                case "--agent-cwd" -> o.agentCwd = v;
                case "--env-marker" -> o.envMarker = v;
                case "--idle-seconds" -> o.idleSeconds = Integer.parseInt(v);
                case "--ping-interval" -> o.pingIntervalSeconds = Integer.parseInt(v);
                case "--agent-ping" -> {
                    String[] p = v.split(",");
                    o.agentPingInterval = Integer.parseInt(p[0]);
                    o.agentPingTimeout = Integer.parseInt(p[1]);
                }
                case "--accept-timeout" -> o.acceptTimeoutSeconds = Integer.parseInt(v);
                case "--rounds" -> o.benchRounds = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + k + "\n" + USAGE);
            }
        }
        return o;
    }
}
