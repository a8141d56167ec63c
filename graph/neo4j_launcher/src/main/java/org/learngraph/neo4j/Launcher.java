package org.learngraph.neo4j;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * Runs Neo4j Community (embedded) with a Bolt connector on 127.0.0.1 until the JVM is told to
 * stop (SIGTERM or SIGINT), then shuts the databases down cleanly.
 *
 * <p>Arguments: {@code --data DIR --port N [--pagecache BYTES]}. Authentication is off unless
 * the environment variable {@code LEARNGRAPH_NEO4J_PASSWORD} is set: then it is on and the
 * password of the built-in user {@code neo4j} is set to that value (kept out of argv so that it
 * does not show in the process list). Started and supervised by graph/neo4j_server.py.
 */
public final class Launcher {
    static final String HOST = "127.0.0.1";
    static final String PASSWORD_ENV = "LEARNGRAPH_NEO4J_PASSWORD";

    private Launcher() {}

    public static void main(String[] args) throws InterruptedException {
        Path data = null;
        int port = 7687;
        long pagecache = 512L * 1024 * 1024;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--data" -> data = Path.of(require(args[i], value)).toAbsolutePath();
                case "--port" -> port = Integer.parseInt(require(args[i], value));
                case "--pagecache" -> pagecache = Long.parseLong(require(args[i], value));
                default -> fail("unknown argument " + args[i]
                        + "; usage: --data DIR --port N [--pagecache BYTES]");
            }
            i++;
        }
        if (data == null) {
            fail("--data DIR is required");
        }
        if (port < 1 || port > 65535) {
            fail("--port must be 1..65535, got " + port);
        }
        String password = System.getenv(PASSWORD_ENV);
        boolean auth = password != null && !password.isEmpty();

        DatabaseManagementService service = new DatabaseManagementServiceBuilder(data)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, port))
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pagecache)
                // The databases are checkpointed and closed before Bolt stops, so Bolt's two
                // 5 s grace periods only delay `learngraph neo4j stop`; 1 s each is plenty.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time,
                        Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time,
                        Duration.ofSeconds(1))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("learngraph-neo4j: shutting down");
            service.shutdown();
            System.out.println("learngraph-neo4j: stopped");
            stopped.countDown();
        }, "learngraph-neo4j-shutdown"));

        if (auth) {
            setPassword(service, password);
        }
        System.out.printf("learngraph-neo4j: ready on bolt://%s:%d (data %s, auth %s)%n",
                HOST, port, data, auth ? "on" : "off");
        System.out.flush();
        stopped.await();
    }

    /** Sets the password of the built-in user; the same password again is not an error. */
    private static void setPassword(DatabaseManagementService service, String password) {
        try {
            service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            if (!message.contains("cannot be the same")) {
                System.err.println("learngraph-neo4j: could not set the password: " + message);
                System.exit(1);
            }
        }
    }

    private static String require(String flag, String value) {
        if (value == null) {
            fail(flag + " needs a value");
        }
        return value;
    }

    private static void fail(String message) {
        System.err.println("learngraph-neo4j: " + message);
        System.exit(2);
    }
}
