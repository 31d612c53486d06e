/**
 * Wiring: the agent configuration (config/keyward.yaml) and, as it grows, the daemon's lifecycle.
 * Entry: {@link io.keyward.daemon.AgentConfig}.
 */
package io.keyward.daemon;
