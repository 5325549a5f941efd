import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Solr served by Jetty on 127.0.0.1 with a given home and port (JettySolrRunner.main is fixed
 * to home "." and port 8983). Run as a single source file: java -cp 'lib/*' SolrMain.java home port
 */
public class SolrMain {
  public static void main(String[] args) throws Exception {
    JettySolrRunner runner =
        new JettySolrRunner(
            args[0],
            JettyConfig.builder()
                .setPort(Integer.parseInt(args[1]))
                .setContext("/solr")
                .stopAtShutdown(true)
                .build());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    runner.stop();
                  } catch (Exception ignored) {
                    // the JVM is ending either way
                  }
                }));
    runner.start();
    System.out.println("SOLR_STARTED " + runner.getBaseUrl());
  }
}
