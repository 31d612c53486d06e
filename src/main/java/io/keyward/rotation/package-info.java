/**
 * The rotation core: the protocol as a pure state machine and the interfaces it talks through
 * ({@link io.keyward.rotation.SecretStore}, {@link io.keyward.rotation.AuditLog}, ...). No I/O here.
 */
package io.keyward.rotation;
