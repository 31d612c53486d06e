package io.keyward.vault;

import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** An AppRole enabled through the API on a fresh mount, with its ids written to files. */
record AppRoleFixture(String mount, String roleId, String secretId, Path roleIdFile, Path secretIdFile) {

    static AppRoleFixture create(TestVault vault, String ttl, String maxTtl) throws IOException {
        String mount = vault.enableAuth("approle");
        String policy = vault.kvPolicy();
        vault.admin("POST", "auth/" + mount + "/role/keyward", "{\"token_policies\":[\"" + policy
                + "\"],\"token_ttl\":\"" + ttl + "\",\"token_max_ttl\":\"" + maxTtl + "\"}");
        String roleId = Leaks.track(vault.admin("GET", "auth/" + mount + "/role/keyward/role-id", null)
                .path("data").path("role_id").asString());
        String secretId = Leaks.track(vault.admin("POST", "auth/" + mount + "/role/keyward/secret-id", "{}")
                .path("data").path("secret_id").asString());
        Path dir = TestDirs.credentials("approle");
        Path roleFile = Files.writeString(dir.resolve("role-id"), roleId + "\n");
        Path secretFile = Files.writeString(dir.resolve("secret-id"), secretId + "\n");
        return new AppRoleFixture(mount, roleId, secretId, roleFile, secretFile);
    }

    VaultAuth.AppRole auth() {
        return new VaultAuth.AppRole(mount, roleIdFile, secretIdFile);
    }
}
