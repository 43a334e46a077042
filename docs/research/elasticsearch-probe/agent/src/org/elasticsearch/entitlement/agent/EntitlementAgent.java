package org.elasticsearch.entitlement.agent;
import java.lang.instrument.Instrumentation;
/** Stand-in for ES's lib/entitlement-agent (not on Maven Central): hands Instrumentation to the class named in agentArgs. */
public class EntitlementAgent {
  public static void agentmain(String agentArgs, Instrumentation inst) throws Exception {
    Class<?> c = Class.forName(agentArgs);
    c.getMethod("initialize", Instrumentation.class).invoke(null, inst);
  }
}
