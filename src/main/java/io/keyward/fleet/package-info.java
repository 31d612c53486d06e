/**
 * Many agents on many hosts: each agent's membership record in Vault, read by the others as the
 * fleet's view, and the local ledger of what this agent delivered to its own targets.
 */
package io.keyward.fleet;
