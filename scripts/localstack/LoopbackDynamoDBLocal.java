// DynamoDB Local, as LocalStack starts it, but listening on 127.0.0.1 only.
//
// DynamoDB Local has no option for its listen address: its Jetty server takes every interface. This runs it
// through its documented embedding API (ServerRunner.createServerFromCommandLineArgs, see
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.UsageNotes.html) and sets
// the Jetty connector's host to 127.0.0.1 before the server starts. Reflection keeps it free of compile-time
// dependencies on DynamoDB Local's jars; its telemetry is never configured, so it sends nothing.
import java.lang.reflect.Field;
import java.lang.reflect.Method;

public final class LoopbackDynamoDBLocal {
    private LoopbackDynamoDBLocal() {
    }

    public static void main(String[] args) throws Exception {
        Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
        Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) args);
        Field serverField = proxy.getClass().getDeclaredField("server");
        serverField.setAccessible(true);
        Object server = serverField.get(proxy);
        Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local's server has no connector to bind to 127.0.0.1");
        }
        for (Object connector : connectors) {
            Method setHost = connector.getClass().getMethod("setHost", String.class);
            setHost.invoke(connector, "127.0.0.1");
        }
        proxy.getClass().getMethod("start").invoke(proxy);
    }
}
