/**
 * Vault (or OpenBao) behind {@link io.keyward.rotation.SecretStore}: authentication, token renewal,
 * KV v2 with check-and-set and metadata, and an audit line for every call. Entry: {@link io.keyward.vault.VaultClient}.
 */
package io.keyward.vault;
