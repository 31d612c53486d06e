package io.keyward.daemon;

import io.keyward.policy.Policy;
import io.keyward.rotation.SecretPath;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Vault access an agent needs for its configuration and policy, and no more: per managed
 * secret its KV v2 {@code data/} and {@code metadata/} paths, keyward's state path, every Vault
 * field the policy reads, the KV version of each mount, and the agent's own token. A pure function
 * of the two; {@link #hcl} and {@link #json} write it as a Vault policy.
 */
public final class VaultAccess {

    /** One path of the policy with the capabilities used on it and why (in the order first needed). */
    public record Grant(String path, Set<String> capabilities, List<String> why) {
        public Grant {
            capabilities = Set.copyOf(capabilities);
            why = List.copyOf(why);
        }

        /** The capabilities in Vault's order (create, read, update, delete, list). */
        public List<String> ordered() {
            return ORDER.stream().filter(capabilities::contains).toList();
        }
    }

    /** Where a token asks what it may do. */
    public static final String CAPABILITIES = "sys/capabilities-self";

    /** A capability the policy needs on a grant's path that the token lacks. */
    public record Missing(Grant grant, String capability) {
        /** One line: the path, the capability, why it is needed and the fix. */
        public String describe() {
            return "the token may not '" + capability + "' on " + grant.path() + " (" + String.join("; ", grant.why())
                    + "): give it the policy keyward vault-policy prints";
        }
    }

    /** The concrete path that stands for a grant's path when Vault is asked about it (a folder's {@code *}: one entry in it). */
    public static String probe(Grant g) {
        return g.path().endsWith("/*") ? g.path().substring(0, g.path().length() - 1) + "keyward-check" : g.path();
    }

    /**
     * Every capability of {@code grants} the token lacks, given what Vault said it may do on each
     * grant's {@link #probe} path ("root" grants all; "deny", or a path Vault did not answer for, none).
     */
    public static List<Missing> missing(List<Grant> grants, Map<String, Set<String>> has) {
        List<Missing> out = new ArrayList<>();
        for (Grant g : grants) {
            Set<String> caps = has.getOrDefault(probe(g), Set.of());
            if (caps.contains("root")) continue;
            for (String c : g.ordered()) {
                if (!caps.contains(c)) out.add(new Missing(g, c));
            }
        }
        return List.copyOf(out);
    }

    private static final List<String> ORDER = List.of("create", "read", "update", "patch", "delete", "list", "sudo");

    private VaultAccess() {}

    /** Every grant this agent needs, secrets first, then state, fields, mounts and token, paths merged. */
    public static List<Grant> needed(AgentConfig config, Policy policy) {
        Map<String, Set<String>> caps = new LinkedHashMap<>();
        Map<String, Set<String>> why = new LinkedHashMap<>();
        Set<String> mounts = new TreeSet<>();
        for (Policy.SecretPolicy s : policy.secrets()) {
            String at = s.mount() + "/" + s.path();
            add(caps, why, s.mount() + "/data/" + s.path(), "secret " + s.id() + ": read its value; write each new one",
                    "create", "read", "update");
            add(caps, why, s.mount() + "/metadata/" + s.path(), "secret " + s.id() + ": its versions and keyward's marks"
                    + " (custom_metadata) on " + at, "read", "update");
            mounts.add(s.mount());
            for (Policy.TargetSpec t : s.targets()) {
                if (t instanceof Policy.TargetSpec.Webhook w) {
                    field(caps, why, w.signingKey(), "webhook target " + t.id() + " of " + s.id() + ": its signing key");
                } else if (t instanceof Policy.TargetSpec.DocBits d) {
                    field(caps, why, d.auth(), "DocBits target " + t.id() + " of " + s.id() + ": the key it calls DocBits with");
                }
            }
        }
        SecretPath state = config.state();
        add(caps, why, state.mount() + "/data/" + state.path() + "/*",
                "keyward's state: journal of each rotation, pending values, membership records",
                "create", "read", "update");
        add(caps, why, state.mount() + "/metadata/" + state.path() + "/*",
                "keyward's state: listed, versions read, removed when a rotation ends", "read", "update", "delete", "list");
        add(caps, why, state.mount() + "/metadata/" + state.path(), "keyward's state: its top folder, listed", "list");
        mounts.add(state.mount());
        policy.issuers().values().forEach(i -> {
            if (i instanceof Policy.IssuerSpec.DocBits d) {
                d.auth().ifPresent(f -> field(caps, why, f, "DocBits issuer " + d.name() + ": the admin key it creates keys with"));
            }
        });
        policy.notifications().ifPresent(n -> field(caps, why, n.signingKey(), "notifications: the webhook's signing key"));
        config.audit().hmacKey().ifPresent(k -> {
            add(caps, why, k.mount() + "/data/" + k.path(), "audit: the fingerprint key every host shares"
                    + " (the first agent creates it)", "create", "read");
            mounts.add(k.mount());
        });
        for (String m : mounts) {
            add(caps, why, "sys/internal/ui/mounts/" + m, "mount " + m + ": whether it is KV version 2", "read");
        }
        add(caps, why, "auth/token/lookup-self", "its own token: time to live, renewable", "read");
        add(caps, why, "auth/token/renew-self", "its own token: renewed before it expires", "update");
        add(caps, why, CAPABILITIES, "keyward check: which of these paths the token may use", "update");
        List<Grant> out = new ArrayList<>();
        caps.forEach((path, c) -> out.add(new Grant(path, c, List.copyOf(why.get(path)))));
        return List.copyOf(out);
    }

    private static void field(Map<String, Set<String>> caps, Map<String, Set<String>> why, Policy.VaultField f, String reason) {
        add(caps, why, f.mount() + "/data/" + f.path(), reason + " (field " + f.field() + ")", "read");
    }

    private static void add(Map<String, Set<String>> caps, Map<String, Set<String>> why, String path, String reason,
                            String... capabilities) {
        caps.computeIfAbsent(path, k -> new LinkedHashSet<>()).addAll(List.of(capabilities));
        why.computeIfAbsent(path, k -> new LinkedHashSet<>()).add(reason);
    }

    /** The grants as an HCL policy, each path with a comment saying why it is there. */
    public static String hcl(List<Grant> grants, String heading) {
        StringBuilder b = new StringBuilder();
        heading.lines().forEach(l -> b.append("# ").append(l).append('\n'));
        for (Grant g : grants) {
            b.append('\n');
            g.why().forEach(w -> b.append("# ").append(w).append('\n'));
            b.append("path \"").append(g.path()).append("\" {\n  capabilities = [")
                    .append(String.join(", ", g.ordered().stream().map(c -> "\"" + c + "\"").toList())).append("]\n}\n");
        }
        return b.toString();
    }

    /** The grants as a JSON policy ({@code {"path": {P: {"capabilities": [...]}}}}), as Vault's API takes it. */
    public static Map<String, Object> json(List<Grant> grants) {
        Map<String, Object> paths = new LinkedHashMap<>();
        for (Grant g : grants) paths.put(g.path(), Map.of("capabilities", g.ordered()));
        return Map.of("path", paths);
    }
}
