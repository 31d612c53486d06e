package io.keyward.crash;

import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.OutsideConsumer;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * The seven secrets of the black-box runs, as a new user would write them: issuer-made API keys
 * with a grace of 8s, random passwords and command-made keys the issuer accepts, each due every
 * minute and delivered to a file of its own in every format, a watch of 2s; the configuration of
 * one host, and what an outside consumer reads and the files should hold.
 */
final class SevenSecrets {

    static final List<String> IDS = List.of("api-raw", "api-json", "api-env", "api-tpl", "pw-props", "pw-tpl", "cmd-raw");

    private SevenSecrets() {}

    /** Waits (at most 90 s) until no rotation is in flight and every file holds the live value. */
    static void awaitSettled(TestVault vault, String state, String paths, Path files, KeywardProcess service)
            throws Exception {
        long until = System.nanoTime() + 90_000_000_000L;
        while (System.nanoTime() < until) {
            if (offLive(vault, state, paths, files).isEmpty() && IDS.stream().noneMatch(id -> inFlight(vault, state, id))) return;
            Thread.sleep(200);
        }
        System.out.println(service.name() + ": not settled within 90 s; log: " + service.tail());
    }

    static boolean inFlight(TestVault vault, String state, String id) {
        String phase = vault.admin("GET", "secret/data/" + state + "/journal/" + id, null).path("data").path("data")
                .path("phase").asString();
        return !phase.equals("retired") && !phase.equals("rolled_back");
    }

    /** The files that do not hold the live value of their secret. */
    static List<String> offLive(TestVault vault, String state, String paths, Path files) throws IOException {
        List<String> off = new ArrayList<>();
        for (OutsideConsumer.File f : consumed(files)) {
            String id = f.path().getFileName().toString().replaceFirst("\\..*", "");
            String value = live(vault, paths + "/" + id).path("data").path(f.field()).asString();
            String text = Files.exists(f.path()) ? Files.readString(f.path()) : "";
            if (value.isEmpty() || !text.contains(value)) off.add(f.path().getFileName() + " is not on the live value");
        }
        return off;
    }

    static JsonNode live(TestVault vault, String path) {
        return vault.admin("GET", "secret/data/" + path, null).path("data");
    }

    static List<OutsideConsumer.File> consumed(Path files) {
        return List.of(new OutsideConsumer.File(files.resolve("api-raw.key"), "raw", "api_key", null),
                new OutsideConsumer.File(files.resolve("api-json.json"), "json", "api_key", null),
                new OutsideConsumer.File(files.resolve("api-env.env"), "env", "api_key", null),
                new OutsideConsumer.File(files.resolve("api-tpl.conf"), "template", "api_key", TEMPLATE_API),
                new OutsideConsumer.File(files.resolve("pw-props.properties"), "properties", "password", null),
                new OutsideConsumer.File(files.resolve("pw-tpl.conf"), "template", "password", TEMPLATE_PW),
                new OutsideConsumer.File(files.resolve("cmd-raw.key"), "raw", "api_key", null));
    }

    private static final String TEMPLATE_API = "[client]\nkey = {{api_key}}\nversion = {{version}}\n";
    private static final String TEMPLATE_PW = "password: {{password}}\n";

    static Path policy(Path work, Path files, String paths) throws IOException {
        String issuer = TestDirs.target().getParent().resolve("src/test/resources/issuer.sh").toString();
        String issued = "    generator: { type: issuer, issuer: it }\n    grace: 8s\n";
        String random = "    generator: { type: random, length: 24 }\n    issuer: it\n    grace: 3s\n";
        String command = "    generator: { type: command, command: [bash, -c, \"head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9\"] }\n"
                + "    issuer: it\n    grace: 3s\n";
        StringBuilder p = new StringBuilder("defaults: { watch: 2s, attempts: 3, backoff: { initial: 200ms, max: 1s } }\n"
                + "issuers:\n  it: { type: command, issue: [bash, " + issuer + ", issue], accept: [bash, " + issuer + ", accept],"
                + " revoke: [bash, " + issuer + ", revoke] }\nsecrets:\n");
        p.append(secret("api-raw", paths, "api_key", issued, "{ id: f, type: file, path: " + files.resolve("api-raw.key") + " }"));
        p.append(secret("api-json", paths, "api_key", issued, "{ id: f, type: file, format: json, path: "
                + files.resolve("api-json.json") + " }"));
        p.append(secret("api-env", paths, "api_key", issued, "{ id: f, type: file, format: env, path: "
                + files.resolve("api-env.env") + " }"));
        p.append(secret("api-tpl", paths, "api_key", issued, "{ id: f, type: file, format: template, template: "
                + quoted(TEMPLATE_API) + ", path: " + files.resolve("api-tpl.conf") + " }"));
        p.append(secret("pw-props", paths, "password", random, "{ id: f, type: file, format: properties, path: "
                + files.resolve("pw-props.properties") + " }"));
        p.append(secret("pw-tpl", paths, "password", random, "{ id: f, type: file, format: template, template: "
                + quoted(TEMPLATE_PW) + ", path: " + files.resolve("pw-tpl.conf") + " }"));
        p.append(secret("cmd-raw", paths, "api_key", command, "{ id: f, type: file, path: " + files.resolve("cmd-raw.key") + " }"));
        return Files.writeString(work.resolve("policy-" + paths.replace('/', '-') + ".yaml"), p.toString());
    }

    private static String secret(String id, String paths, String field, String generator, String target) {
        return "  - id: " + id + "\n    path: " + paths + "/" + id + "\n    fields: [" + field + "]\n" + generator
                + "    schedule: { every: 1m }\n    targets:\n      - " + target + "\n";
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + "\"";
    }

    static Path config(Path work, Path logs, String agent, String address, String state, Path policy) throws IOException {
        return Files.writeString(work.resolve("keyward-" + agent + "-" + state + ".yaml"), String.join("\n",
                "agent: { id: " + agent + " }",
                "vault: { address: \"" + address + "\", timeouts: { connect: 1s, request: 5s } }",
                "policy: " + policy,
                "state: { mount: secret, path: " + state + ", dir: " + work.resolve("state-" + agent) + " }",
                "rotation: { lease: 5s }",
                "metrics: { listen: off }",
                "audit: { file: " + logs.resolve("audit-" + agent + ".jsonl") + ", hmac_key_file: " + work.resolve("hmac.key") + " }",
                ""));
    }

    static void trackKeys(Path issuer) throws IOException {
        for (String sub : List.of("valid", "revoked")) {
            Path d = issuer.resolve(sub);
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.list(d)) {
                s.forEach(p -> Leaks.track(p.getFileName().toString()));
            }
        }
    }

}
