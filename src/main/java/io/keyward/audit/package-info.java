/**
 * The audit trail: one JSON line per Vault access and rotation step, in its own file, with values
 * only as HMAC fingerprints. Entry: {@link io.keyward.audit.JsonAuditLog}.
 */
package io.keyward.audit;
