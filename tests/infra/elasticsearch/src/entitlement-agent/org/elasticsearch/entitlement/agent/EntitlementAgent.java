/*
 * Stands in for: Elasticsearch's lib/entitlement-agent (the Java agent that ES
 * 8.19 attaches to itself at boot to install its "entitlements" checks, the
 * replacement for the SecurityManager).
 * Why: the agent jar is not published on Maven Central (the bridge jar is), and
 * ES 8.19 boots entitlements even on Java 17, so without an agent the server
 * fails with NoClassDefFoundError .../InstrumentationRegistry.
 *
 * It does what the real agent does: hand the Instrumentation to the class that
 * ES names in the agent arguments (its initialize(Instrumentation) method does
 * the actual work, inside the server's own jars). The class name and package
 * must stay exactly as in ES; the jar's manifest is src/entitlement-agent/MANIFEST.MF.
 */
package org.elasticsearch.entitlement.agent;

import java.lang.instrument.Instrumentation;

public class EntitlementAgent {
  public static void agentmain(String agentArgs, Instrumentation inst) throws Exception {
    Class<?> initClass = Class.forName(agentArgs);
    initClass.getMethod("initialize", Instrumentation.class).invoke(null, inst);
  }
}
