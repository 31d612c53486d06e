package io.keyward.testing;

import java.net.URI;

/** The policy YAML of a DocBits issuer in API mode against the simulator, as the tests write it. */
public final class DocBitsIssuer {

    private DocBitsIssuer() {}

    /**
     * An {@code issuers:} entry named {@code name} (indented under {@code issuers:}, lines joined
     * with newlines) that creates keys in org {@code acme} with the admin key at {@code auth}
     * ("PATH" or "PATH, field: F") and revokes them.
     */
    public static String apiMode(String name, URI baseUrl, String auth) {
        return String.join("\n",
                "  " + name + ":",
                "    type: docbits",
                "    base_url: \"" + baseUrl + "\"",
                "    org: acme",
                "    auth: { path: " + auth + " }",
                "    create: { path: /api_keys, body: '{\"name\": \"keyward-{request_id}\", \"idempotency_key\": \"{request_id}\"}' }",
                "    key_pointer: /key",
                "    revoke: { path: /api_keys/revoke, body: '{\"key\": \"{key}\"}' }");
    }
}
